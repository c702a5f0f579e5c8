"""An allow-list HTML sanitizer for the Data Docs pages: what a browser receives holds no
executable markup whatever the page was rendered from.

Great Expectations renders Data Docs from Jinja templates with autoescaping off, so a value
from the data (a column named `<img src=x onerror=...>`) can reach the page as markup. The
values are escaped before rendering (`ctdata.validation.data_docs`); this pass is the second
wall, run when a page is written and again each time the view serves one (pages kept before
the escaping existed are served safe too): only presentational tags and attributes stay,
scripts and their content go, every `on*` attribute and `javascript:` link goes, stylesheets
and images are kept only when they name a local asset (`assets` maps a file name to its URL),
and links leave the page only for its own anchors and the URLs `links` maps them to.

Built on the standard library's tolerant HTML tokenizer; attribute values are re-escaped on
output, text outside `<style>` too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from html.parser import HTMLParser


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TAGS = _words(
    "html head body title meta link style div span p a ul ol li dl dt dd table thead tbody "
    "tfoot tr td th caption colgroup col h1 h2 h3 h4 h5 h6 strong em b i u s small sub sup "
    "code pre kbd samp br hr img nav section article header footer main aside blockquote "
    "abbr figure figcaption label"
)
# Dropped with everything inside them, not only their tags.
DROPPED_WITH_CONTENT = _words(
    "script noscript template iframe frame frameset object embed applet svg math form "
    "textarea select button audio video canvas"
)
VOID = _words("br hr img meta link col")
ATTRIBUTES = _words(
    "class id style title alt colspan rowspan scope role lang dir width height align "
    "valign charset name content rel type media href src"
)
_UNSAFE_STYLE = re.compile(r"expression\s*\(|url\s*\(|javascript:|@import|behavior\s*:", re.I)


def asset_name(url: str) -> str:
    """The file name a (possibly remote) stylesheet, icon or image URL asks for."""
    return url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class _Sanitizer(HTMLParser):
    def __init__(self, assets: Mapping[str, str], links: Callable[[str], str | None]) -> None:
        super().__init__(convert_charrefs=False)
        self.assets, self.links = assets, links
        self.out: list[str] = []
        self.dropping: list[str] = []  # open elements dropped with their content
        self.in_style = False

    # -- tags ------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        if self.dropping or tag in DROPPED_WITH_CONTENT:
            if not closed and tag not in VOID and tag in DROPPED_WITH_CONTENT | set(self.dropping):
                self.dropping.append(tag)
            return
        if tag not in TAGS:
            return  # the tag goes, its text stays
        kept = self._attributes(tag, dict(attrs))
        if kept is None:
            return
        rendered = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in kept.items())
        self.out.append(f"<{tag}{rendered}>")
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if tag in TAGS and tag not in VOID:
            self.out.append(f"</{tag}>")
        if tag == "style":
            self.in_style = False

    def _attributes(self, tag: str, attrs: dict[str, str | None]) -> dict[str, str] | None:
        """The attributes kept, None to drop the element itself (a stylesheet or image that
        is not a local asset, a meta refresh)."""
        kept = {
            k: v or ""
            for k, v in attrs.items()
            if k in ATTRIBUTES and not (k == "style" and _UNSAFE_STYLE.search(v or ""))
        }
        if tag == "meta" and "http-equiv" in attrs:
            return None
        if tag in ("link", "img"):
            key = "href" if tag == "link" else "src"
            local = self.assets.get(asset_name(kept.get(key, "")))
            if local is None:
                return None
            kept[key] = local
        elif "src" in kept:
            del kept["src"]
        if tag == "a" and "href" in kept:
            target = kept["href"]
            moved = target if target.startswith("#") else self.links(target)
            if moved is None:
                del kept["href"]
            else:
                kept["href"] = moved
        elif tag != "link":
            kept.pop("href", None)
        return kept

    # -- everything else -------------------------------------------------------------------

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        self.out.append(data if self.in_style else html.escape(data, quote=False))

    def handle_entityref(self, name: str) -> None:
        if not self.dropping:
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self.dropping:
            self.out.append(f"&#{name};")

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype"):
            self.out.append("<!DOCTYPE html>")

    def handle_comment(self, data: str) -> None:
        return  # comments go (conditional comments were a way in)

    def handle_pi(self, data: str) -> None:
        return


def sanitize(
    page: str, assets: Mapping[str, str], links: Callable[[str], str | None] = lambda _: None
) -> str:
    """`page` with only the allowed markup; `assets` maps local asset names to their URLs,
    `links` maps a link's target to where it should go (None: not a link any more)."""
    parser = _Sanitizer(assets, links)
    parser.feed(page)
    parser.close()
    return "".join(parser.out)
