#!/usr/bin/env python3
"""Every public name of corosync's <corosync/corotypes.h>, <corosync/cpg.h>,
<corosync/quorum.h> and <corosync/swab.h> exists in ringcast's compat headers.

The names come from the corosync headers installed on this machine (Debian's
libcpg-dev, libquorum-dev and libcorosync-common-dev, installed by
ci/install-deps), so a
name corosync adds shows up here without anyone listing it:
  - macros from `clang -E -dD`, attributed to the file that defines them by
    the preprocessor's line markers;
  - functions, typedefs, struct tags and enum values from clang's JSON AST.
The same extraction runs over ringcast's headers (-I api/compat); a corosync
name that ringcast lacks fails the test unless it is a deliberate omission
below, which docs/api.md must name. A generated C file that uses every
corosync name is then compiled against ringcast's headers, so each name is
not only present but usable from C. Values and layouts are checked by
cpg_header_test.

  corosync_names_test.py SOURCE_DIR [CLANG]
"""
import json
import os
import subprocess
import sys
import tempfile

SYSTEM_DIR = "/usr/include/corosync"
HEADERS = ["corotypes.h", "cpg.h", "quorum.h", "swab.h"]

# Debian installs no swab.h (corosync keeps it for its own build); its three
# macros are corosync 3.1's whole swab.h.
SWAB_NAMES = {("macro", "swab16"), ("macro", "swab32"), ("macro", "swab64")}

# Left out on purpose; docs/api.md gives the reason for each.
OMITTED = {
    ("function", "qb_to_cs_error"): "converts libqb IPC errors; ringcast has no libqb IPC",
    ("function", "hdb_error_to_cs"): "converts corosync handle-database errors; no hdb here",
}


def run(args):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def macros(clang, source, flags, inside):
    """#define names whose definition lies in a file that inside() accepts."""
    found, current = set(), ""
    for line in run([clang, "-E", "-dD", *flags, source]).splitlines():
        if line.startswith("# ") and '"' in line:
            current = line.split('"')[1]
        elif line.startswith("#define ") and inside(current):
            name = line.split()[1].split("(")[0]
            found.add(("macro", name))
    return found


def walk_files(node, state):
    """Follows clang's JSON in document order: a location names its file only
    when it differs from the previous location's, so the file is a state."""
    if isinstance(node, dict):
        if "file" in node and ("offset" in node or "col" in node):
            state["file"] = node["file"]
        for key, value in node.items():
            if key != "includedFrom":
                walk_files(value, state)
    elif isinstance(node, list):
        for item in node:
            walk_files(item, state)


def declarations(clang, source, flags, inside):
    ast = json.loads(run([clang, "-Xclang", "-ast-dump=json", "-fsyntax-only", *flags, source]))
    found, state = set(), {"file": ""}
    for decl in ast.get("inner", []):
        walk_files(decl.get("loc", {}), state)
        here = inside(state["file"])
        kind, name = decl.get("kind"), decl.get("name")
        if here and name and kind == "FunctionDecl":
            found.add(("function", name))
        elif here and name and kind == "TypedefDecl":
            found.add(("type", name))
        elif here and name and kind in ("RecordDecl", "EnumDecl"):
            found.add(("type", f"{decl.get('tagUsed', 'enum')} {name}"))
        if here and kind == "EnumDecl":
            for value in decl.get("inner", []):
                if value.get("kind") == "EnumConstantDecl":
                    found.add(("enum value", value["name"]))
        for key, value in decl.items():
            if key != "loc":
                walk_files(value, state)
    return found


def names(clang, directory, flags, inside):
    headers = [h for h in HEADERS if os.path.exists(os.path.join(directory, h))]
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        for h in headers:
            f.write(f"#include <corosync/{h}>\n")
    try:
        return macros(clang, f.name, flags, inside) | declarations(clang, f.name, flags, inside)
    finally:
        os.unlink(f.name)


def use_of(kind, name):
    if kind == "macro":
        return f'#ifndef {name}\n#error "macro {name} is missing"\n#endif\n'
    if kind == "function":
        return f"void* use_{name}(void) {{ return (void*)&{name}; }}\n"
    if kind == "type":
        return f"unsigned long size_{name.replace(' ', '_')}(void) {{ return sizeof({name}); }}\n"
    return f"int value_{name}(void) {{ return (int){name}; }}\n"


def compile_uses(clang, wanted, flags):
    """A C file that uses every name, compiled against ringcast's headers."""
    text = "".join(f"#include <corosync/{h}>\n" for h in HEADERS)
    text += "".join(use_of(k, n) for k, n in sorted(wanted) if (k, n) not in OMITTED)
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write(text)
    try:
        done = subprocess.run([clang, "-std=c11", "-fsyntax-only", "-ferror-limit=0",
                               "-Wno-missing-prototypes", *flags, f.name],
                              capture_output=True, text=True)
        return done.returncode, done.stderr
    finally:
        os.unlink(f.name)


def main():
    source = os.path.realpath(sys.argv[1])
    clang = sys.argv[2] if len(sys.argv) > 2 else "clang"
    for h in ("corotypes.h", "cpg.h", "quorum.h"):
        if not os.path.exists(os.path.join(SYSTEM_DIR, h)):
            sys.exit(f"{SYSTEM_DIR}/{h} is missing: run ci/install-deps "
                     "(libcpg-dev, libquorum-dev, libcorosync-common-dev)")
    theirs = names(clang, SYSTEM_DIR, [], lambda f: f.startswith(SYSTEM_DIR + "/")) | SWAB_NAMES
    api = os.path.join(source, "api")
    ours = names(clang, os.path.join(api, "compat", "corosync"),
                 ["-I", os.path.join(api, "compat")],
                 lambda f: os.path.realpath(f).startswith(api + os.sep))

    failures = []
    missing = sorted(theirs - ours - OMITTED.keys())
    for kind, name in missing:
        failures.append(f"missing {kind}: {name}")
    for key in sorted(OMITTED.keys() & ours):
        failures.append(f"{key[1]} is listed as omitted but ringcast declares it")
    docs = open(os.path.join(source, "docs", "api.md"), encoding="utf-8").read()
    for key in sorted(OMITTED):
        if key[1] not in docs:
            failures.append(f"docs/api.md does not name the omitted {key[1]} ({OMITTED[key]})")
    status, errors = compile_uses(clang, theirs, ["-I", os.path.join(api, "compat")])
    if status != 0:
        failures.append("a C file using every corosync name does not compile:\n" + errors)

    print(f"{len(theirs)} corosync names, {len(ours)} ringcast names, {len(OMITTED)} omitted "
          f"on purpose, {len(missing)} missing")
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
