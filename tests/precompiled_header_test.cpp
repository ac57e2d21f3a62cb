// The host of the tests' precompiled header (tests/CMakeLists.txt). The header
// is force-included into every test file: this checks that what it provides is
// there without an include of its own.

TEST(PrecompiledHeader, GivesEveryTestGoogleTestAndTheCommonStandardHeaders) {
  std::vector<std::string> words{"ring", "token"};
  EXPECT_EQ(std::max_element(words.begin(), words.end())->size(), 5u);
  EXPECT_EQ(std::strlen("ring"), 4u);
}
