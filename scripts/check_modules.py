#!/usr/bin/env python3
"""Checks that the module graph says what each module uses.

Reads the manifest through `swift package dump-package` and, for every target, compares what
its files import with what it declares: a module imported but not declared (it builds only by
luck, through another target's dependency) and a dependency declared but imported by no file
(an app pays for building it) are both errors. Then it prints each library product's closure of
package dependencies, and fails when a product that must stay small reaches one it must not.

Usage: python3 scripts/check_modules.py [--manifest dump.json]
Prints one line per problem; exits 1 when there is any.
"""
import json
import os
import re
import subprocess
import sys

# Modules of the toolchain and the system: imported without a declaration.
SYSTEM = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Synchronization", "Dispatch",
          "Glibc", "Musl", "Darwin", "os", "Testing", "XCTest", "_Concurrency", "Observation"}

# What an app that uses only this product must never build.
FORBIDDEN = {
# (AsyncHTTPClient itself brings swift-nio-ssl and swift-nio-http2, so those cannot be kept out.)
    "KinesisConsumer": {"hummingbird", "GRDB.swift"},
    "KinesisProducer": {"hummingbird", "GRDB.swift"},
    "Kinesis": {"hummingbird", "GRDB.swift"},
}

IMPORT = re.compile(
    r"^\s*(?:@[\w()]+\s+)*(?:public\s+|package\s+|internal\s+|private\s+|fileprivate\s+)?"
    r"import\s+(?:struct\s+|class\s+|enum\s+|protocol\s+|func\s+|var\s+|let\s+|typealias\s+)?([A-Za-z_]\w*)")


def dependency_name(dependency):
    """(kind, name, package) of one entry of a target's dependencies."""
    for kind in ("byName", "target", "product"):
        if kind in dependency:
            entry = dependency[kind]
            name = entry[0]
            package = entry[1] if kind == "product" and len(entry) > 1 else None
            return kind, name, package
    raise ValueError(f"unknown dependency form {dependency}")


def target_folder(target):
    if target.get("path"):
        return target["path"]
    return os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])


def imports_of(folder):
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            if not name.endswith(".swift"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    match = IMPORT.match(line)
                    if match:
                        found.setdefault(match.group(1), f"{path}:{number}")
    return found


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--manifest":
        with open(sys.argv[2]) as handle:
            manifest = json.load(handle)
    else:
        manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], check=True, capture_output=True, text=True).stdout)
    targets = {t["name"]: t for t in manifest["targets"]}
    products_of_packages = {}
    problems = []

    for target in manifest["targets"]:
        declared = {}
        for dependency in target.get("dependencies", []):
            kind, name, package = dependency_name(dependency)
            declared[name] = package
        imported = imports_of(target_folder(target))
        for module, where in sorted(imported.items()):
            if module in SYSTEM or module == target["name"]:
                continue
            if module not in declared:
                problems.append(f"{target['name']}: imports {module} ({where}) without declaring it")
        for name in sorted(declared):
            if name not in imported:
                problems.append(f"{target['name']}: declares {name} but none of its files imports it")

    def closure(name, seen=None):
        """The packages a target pulls in, through its targets and products."""
        seen = set() if seen is None else seen
        packages = set()
        for dependency in targets[name].get("dependencies", []):
            kind, dependency_target, package = dependency_name(dependency)
            if kind == "product":
                packages.add(package)
            elif dependency_target in targets and dependency_target not in seen:
                seen.add(dependency_target)
                packages |= closure(dependency_target, seen)
        return packages

    for product in manifest["products"]:
        if "library" not in product["type"]:
            continue
        packages = set()
        for target in product["targets"]:
            packages |= closure(target)
        print(f"{product['name']}: {', '.join(sorted(packages)) or 'no packages'}")
        for package in sorted(packages & FORBIDDEN.get(product["name"], set())):
            problems.append(f"product {product['name']} reaches {package}, which an app that uses only it must not build")

    for problem in problems:
        print(f"FAILED: {problem}")
    print(f"module graph: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
