"""What in an HTML page could run or reach the network, found with the standard library's
tokenizer (independently of the sanitizer under test): script elements, event-handler
attributes, `javascript:` URLs, frames and plugins, and assets or links on other hosts."""

from __future__ import annotations

from html.parser import HTMLParser

ACTIVE_TAGS = {"script", "iframe", "frame", "object", "embed", "applet", "base", "form"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "srcset", "xlink:href"}


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in URL_ATTRIBUTES and value.startswith(
                ("javascript:", "vbscript:", "data:text")
            ):
                self.found.append(f"<{tag} {name}={value[:30]}>")
            if tag == "meta" and name == "http-equiv":
                self.found.append(f"<meta http-equiv={value}>")

    handle_startendtag = handle_starttag


class _Remote(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in URL_ATTRIBUTES and (value or "").strip().lower().startswith(("http", "//")):
                self.found.append(f"<{tag} {name}={value}>")

    handle_startendtag = handle_starttag


def executable_markup(page: str) -> list[str]:
    """Every element or attribute of `page` that a browser could execute."""
    finder = _Finder()
    finder.feed(page)
    finder.close()
    return finder.found


def remote_references(page: str) -> list[str]:
    """Every absolute URL the page loads or links to (CDNs, other sites)."""
    finder = _Remote()
    finder.feed(page)
    finder.close()
    return finder.found
