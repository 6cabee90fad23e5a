"""Sphinx configuration of chainrule's documentation site (``make docs`` builds it into
build/site).

Sphinx, not MkDocs: most of ``cr``'s functions are made at import time (``cr.sin`` is a factory's
function around a primitive), so the reference must be read off the live objects, which is what
autodoc does (their ``__signature__`` and ``__doc__``); mkdocstrings' Python handler reads the
source statically by default and would see no ``sin`` at all. Pages are Markdown (MyST), so the
same files read well on a code host and in the site. The build is offline: no intersphinx, no
web fonts, no math from a CDN (pages carry no math roles).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the checkout's chainrule, even without an install

import chainrule  # noqa: E402

project = "chainrule"
author = "the chainrule authors"
release = version = getattr(chainrule, "__version__", "0.1.0")
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
myst_heading_anchors = 3  # README-style links to headings (#forward-or-reverse)
myst_enable_extensions = ["colon_fence"]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"undoc-members": False}
add_module_names = False
suppress_warnings = ["myst.header"]
nitpicky = False
html_theme = "furo"
html_title = "chainrule"
html_show_sourcelink = False
html_copy_source = False
html_permalinks_icon = "#"
pygments_style = "default"


def _one_tensor(app, what, name, obj, options, signature, return_annotation):
    """A bare ``Tensor`` in a signature is chainrule's (the dialects have their own classes of
    that name, which would make the cross-reference ambiguous)."""
    import re

    def qualify(text):
        return text and re.sub(r"(?<![\w.~])Tensor\b", "chainrule.Tensor", text)

    return qualify(signature), qualify(return_annotation)


def setup(app):
    app.connect("autodoc-process-signature", _one_tensor)
