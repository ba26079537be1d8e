"""Every relative link in the README and docs/ must resolve.

  check_doc_links.py REPO_ROOT [FILE.md ...]

Checks README.md and docs/*.md (or the files given, relative to REPO_ROOT). For each
markdown link or image outside code, `[text](target)` and `[label]: target`:
- a URL with a scheme (https:, mailto:) is left alone;
- a path must name an existing file or folder inside the repository, relative to the
  linking file;
- an anchor (`#part`, alone or after a .md path) must match a heading of that file, as
  GitHub turns headings into anchors.
Prints each broken link as file:line: target: problem; exits 1 if there is any.
Standard library only.
"""
import os
import re
import sys
import urllib.parse

INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(text, blank_code_spans=True):
    """(line number, line) outside fenced code blocks, inline code spans blanked."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield number, CODE_SPAN.sub(lambda s: " " * len(s.group(0)), line) if blank_code_spans else line


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(path, cache={}):
    """The anchors of a markdown file's headings; a repeated heading gets -1, -2, ..."""
    if path not in cache:
        found, counts = set(), {}
        with open(path, encoding="utf-8") as f:
            for _, line in prose_lines(f.read(), blank_code_spans=False):
                m = HEADING.match(line)
                if m:
                    base = slug(m.group(2))
                    n = counts.get(base, 0)
                    counts[base] = n + 1
                    found.add(base if n == 0 else f"{base}-{n}")
        cache[path] = found
    return cache[path]


def check(root, md_path):
    problems = []
    with open(md_path, encoding="utf-8") as f:
        text = f.read()
    for number, line in prose_lines(text):
        targets = INLINE_LINK.findall(line)
        m = REFERENCE_DEF.match(line)
        if m:
            targets.append(m.group(1))
        for target in targets:
            problem = check_target(root, md_path, target)
            if problem:
                problems.append(f"{os.path.relpath(md_path, root)}:{number}: {target}: {problem}")
    return problems


def check_target(root, md_path, target):
    if SCHEME.match(target):
        return None
    path_part, _, anchor = target.partition("#")
    path_part = urllib.parse.unquote(path_part)
    if path_part.startswith("/"):
        return "absolute path; link relative to the file"
    resolved = os.path.normpath(os.path.join(os.path.dirname(md_path), path_part)) if path_part else md_path
    if os.path.relpath(resolved, root).startswith(".."):
        return "points outside the repository"
    if not os.path.exists(resolved):
        return "no such file"
    if anchor and resolved.endswith(".md") and os.path.isfile(resolved):
        if urllib.parse.unquote(anchor).lower() not in anchors(resolved):
            return f"no heading with anchor #{anchor} in {os.path.relpath(resolved, root)}"
    return None


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    names = argv[2:]
    if not names:
        names = ["README.md"]
        docs = os.path.join(root, "docs")
        if os.path.isdir(docs):
            names += sorted(os.path.join("docs", n) for n in os.listdir(docs) if n.endswith(".md"))
    problems = []
    for name in names:
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            problems.append(f"{name}: no such file")
            continue
        problems += check(root, path)
    for p in problems:
        print(p)
    print(f"{len(names)} file(s) checked, {len(problems)} broken link(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
