# tests/cluster/compare_views.awk: the views of the separate-hosts test,
# compared across members (scenario.sh, compare_views). Input, per VM:
#   vm=I kind=hashes FILE   RINGCAST_VIEW_HASHES: "view members=M ring=R",
#                           then the view's running hash after each delivery
#   vm=I kind=out FILE      the VM's stdout: "view_end|report members=M
#                           count=C hash=H ring=R next=N" when a view ends
#                           (N: the configuration that follows, or "end")
# A view is (members, ring). Extended virtual synchrony: members that go on
# to the same next configuration delivered the same messages in it
# (identical count and hash); members that part ways (a partition's sides)
# may differ in the view's tail, but one's sequence is a prefix of the
# other's (its hash equals the other's running hash at its count).
# Fails (status 1) on any other difference, and unless some view of `want`
# with deliveries was reported, consistently, by `need` members or more.
function fail(what) {
  printf "  MISMATCH %s\n", what
  bad = 1
}
kind == "hashes" && $1 == "view" {
  key = substr($2, 9) " " substr($3, 6)
  # A view seen twice by one member (should not happen): its first one.
  cur = ((vm, key) in opened) ? "" : key
  opened[vm, key] = 1
  n = 0
  next
}
kind == "hashes" {
  if (cur != "") at[vm, cur, ++n] = $1
  next
}
kind == "out" && ($1 == "view_end" || $1 == "report") && $5 ~ /^ring=/ && $6 ~ /^next=/ {
  m = substr($2, 9)
  key = m " " substr($5, 6)
  if (!(key in entries)) {
    order[++keys] = key
    members[key] = m
  }
  e = ++entries[key]
  who[key, e] = vm
  nxt[key, e] = substr($6, 6)
  count[key, e] = substr($3, 7) + 0
  hash[key, e] = substr($4, 6)
}
# Entries s and l of one view, count[s] <= count[l]: s must be a prefix of l
# (identical when both move on to the same configuration).
function consistent(key, s, l, a, h) {
  a = count[key, s]
  if (nxt[key, s] == nxt[key, l] && (a != count[key, l] || hash[key, s] != hash[key, l])) {
    fail(key " -> " nxt[key, s] ": vm" who[key, s] " count=" a " hash=" hash[key, s] ", vm" \
         who[key, l] " count=" count[key, l] " hash=" hash[key, l])
    return 0
  }
  if (a == 0) return 1
  if (a == count[key, l]) h = hash[key, l]
  else if ((who[key, l], key, a) in at) h = at[who[key, l], key, a]
  else {
    fail(key ": vm" who[key, l] "'s view hashes do not reach count " a " (vm" who[key, s] "'s)")
    return 0
  }
  if (h == hash[key, s]) return 1
  fail(key ": vm" who[key, s] " delivered " a " (hash " hash[key, s] "), not a prefix of vm" \
       who[key, l] "'s " count[key, l] " (hash " h " at " a ")")
  return 0
}
# A member's own report agrees with its hash file (the checker's own check).
function self_check(key, e, v) {
  v = who[key, e]
  if (count[key, e] > 0 && (v, key, count[key, e]) in at && at[v, key, count[key, e]] != hash[key, e])
    fail(key ": vm" v " reported hash " hash[key, e] " at " count[key, e] ", its file says " \
         at[v, key, count[key, e]])
}
END {
  for (k = 1; k <= keys; k++) {
    key = order[k]
    ok = 1
    delivered = 0
    split("", vms)
    reporters = 0
    for (i = 1; i <= entries[key]; i++) {
      self_check(key, i)
      if (count[key, i] > 0) delivered = 1
      if (!(who[key, i] in vms)) reporters++
      vms[who[key, i]] = 1
      for (j = i + 1; j <= entries[key]; j++) {
        if (count[key, i] <= count[key, j]) ok = consistent(key, i, j) && ok
        else ok = consistent(key, j, i) && ok
      }
      printf "  %-22s -> %-22s count=%-7d hash=%s at vm%d\n", key, nxt[key, i], count[key, i],
             hash[key, i], who[key, i]
    }
    if (members[key] == want && delivered && ok && reporters >= need) found = 1
  }
  if (!found) {
    printf "  no view of %s with deliveries reported consistently by %d members\n", want, need
    bad = 1
  }
  exit bad
}
