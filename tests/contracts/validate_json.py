#!/usr/bin/python3
"""Validate JSON lines (or YAML configs) against a JSON Schema from schemas/.

Usage:
  validate_json.py [--expect-invalid] [--max-errors N] SCHEMA FILE...
      Every non-blank line of every FILE is one JSON document (JSON lines; '-' is stdin).
  validate_json.py [--expect-invalid] [--max-errors N] --yaml SCHEMA FILE...
      Every FILE is one YAML document (a pipeline config).

Prints 'N valid, M invalid' and the first errors as FILE:LINE: PATH: MESSAGE.
Exit status: 0 when every document is valid; 1 when any is invalid. With --expect-invalid
the check is inverted (for negative samples): 0 when every document is invalid, 1 when any
is valid. 2 for usage errors, an unreadable or broken schema, or a missing Python module.

Stricter than plain json.loads, like streamlearn's own decoder: NaN/Infinity and duplicate
keys make a line invalid. Run it with Debian's /usr/bin/python3 (python3-jsonschema,
python3-yaml): a pyenv python3 on PATH may not see them.
"""

import argparse
import json
import sys

try:
    import jsonschema
    from jsonschema.validators import validator_for
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"validate_json: cannot import jsonschema ({e}); install Debian's python3-jsonschema "
          "(scripts/install-deps.sh --test) and run with /usr/bin/python3", file=sys.stderr)
    sys.exit(2)


class DocumentError(Exception):
    """A document that cannot be parsed: counted as invalid, not a crash."""


def _reject_constant(name):
    raise DocumentError(f"invalid JSON: {name} is not a JSON number")


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise DocumentError(f"invalid JSON: duplicate key {key!r}")
        obj[key] = value
    return obj


def parse_json(text):
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise DocumentError(f"invalid JSON: {e}") from None


def parse_yaml(text):
    try:
        import yaml
    except ImportError as e:
        print(f"validate_json: cannot import yaml ({e}); install Debian's python3-yaml",
              file=sys.stderr)
        sys.exit(2)

    class StrictLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise DocumentError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return yaml.SafeLoader.construct_mapping(loader, node, deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise DocumentError(f"invalid YAML: {e}".replace("\n", " ")) from None


def read_text(path):
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def documents(paths, yaml_mode):
    """Yields (where, document or DocumentError)."""
    for path in paths:
        try:
            text = read_text(path)
        except (OSError, UnicodeDecodeError) as e:
            print(f"validate_json: {path}: {e}", file=sys.stderr)
            sys.exit(2)
        if yaml_mode:
            try:
                yield path, parse_yaml(text)
            except DocumentError as e:
                yield path, e
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{number}", parse_json(line)
            except DocumentError as e:
                yield f"{path}:{number}", e


def load_validator(schema_path):
    try:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f)
        cls = validator_for(schema)  # the draft named by "$schema"
        cls.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        print(f"validate_json: schema {schema_path}: {e}", file=sys.stderr)
        sys.exit(2)
    return cls(schema)


def describe(error):
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"{path or '(root)'}: {error.message}"


def main(argv):
    parser = argparse.ArgumentParser(
        description="Validate JSON lines (or, with --yaml, YAML documents) against a JSON Schema.")
    parser.add_argument("--yaml", action="store_true",
                        help="each FILE is one YAML document instead of JSON lines")
    parser.add_argument("--expect-invalid", action="store_true",
                        help="negative samples: succeed only if every document is invalid")
    parser.add_argument("--max-errors", type=int, default=10, metavar="N",
                        help="print at most N problems (default 10)")
    parser.add_argument("schema")
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)

    validator = load_validator(args.schema)
    valid = invalid = 0
    problems = []     # what makes the run fail
    rejections = []   # with --expect-invalid: why each document was rejected (informative)
    for where, doc in documents(args.files, args.yaml):
        if isinstance(doc, DocumentError):
            reasons = [str(doc)]
        else:
            errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
            reasons = [describe(e) for e in errors]
        if reasons:
            invalid += 1
            (rejections if args.expect_invalid else problems).append(f"{where}: {'; '.join(reasons)}")
        else:
            valid += 1
            if args.expect_invalid:
                problems.append(f"{where}: valid, but expected to be invalid")

    total = valid + invalid
    print(f"{valid} valid, {invalid} invalid")
    for line in problems[:args.max_errors]:
        print(line)
    if len(problems) > args.max_errors:
        print(f"... and {len(problems) - args.max_errors} more")
    for line in rejections[:args.max_errors]:
        print(f"rejected as expected: {line}")
    if total == 0:
        print("validate_json: no documents found", file=sys.stderr)
        return 1
    if args.expect_invalid:
        return 1 if valid else 0
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
