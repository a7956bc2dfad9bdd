"""MkDocs hooks: the docs link to spec files in specs/, outside docs/ (so the links
work on GitHub too). The site serves those files under specs/ and points the links there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

SPECS_LINK = re.compile(r"\]\(\.\./specs/")


def on_files(files: Files, config: Any) -> Files:
    root = Path(config["docs_dir"]).parent
    for path in sorted((root / "specs").rglob("*.yaml")):
        uri = path.relative_to(root).as_posix()
        files.append(File(uri, str(root), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if "/" in page.file.src_uri:  # only top-level pages link to ../specs/
        return markdown
    return SPECS_LINK.sub("](specs/", markdown)
