"""Find every page, form, filter and htmx endpoint of the dashboard by following it as a user would.

Pages are read with Django's test client from "/" on: links, <form>s (their fields and the values
the page fills in) and elements with hx-get / hx-post. The fuzz tests then send hostile values to
what was found, so a form added tomorrow is covered without naming it here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

# Not followed: signing out ends the session, deletes remove the objects the other forms edit,
# the admin is Django's own (its JSON widgets are not this application's forms).
SKIP_PREFIXES = ("/admin/", "/accounts/logout/", "/static/")
SKIP_SUFFIXES = ("/delete/",)


@dataclass
class Form:
    """A <form> (or an element with hx-get/hx-post) as found on a page."""

    page: str
    action: str
    method: str  # "get" or "post"
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values the page filled in
    files: list[str] = field(default_factory=list)  # names of <input type=file>
    textareas: set[str] = field(default_factory=set)  # where JSON is typed, mostly
    choices: dict[str, list[str]] = field(default_factory=dict)  # select name -> option values
    parent: Form | None = None  # the <form> around an hx-get/hx-post element: htmx sends its fields

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return self.method, _shape(self.action), tuple(sorted(self.fields))


def _shape(url: str) -> str:
    """The URL with its numbers taken out: /tasks/12/ and /tasks/13/ are the same form."""
    parts = urlsplit(url)
    path = "/".join("#" if p.isdigit() else p for p in parts.path.split("/"))
    return path + "?" + "&".join(sorted(k for k, _ in parse_qsl(parts.query)))


class _PageParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page, a["href"]))
        for hx in ("hx-get", "hx-post"):
            if a.get(hx):
                endpoint = Form(self.page, urljoin(self.page, a[hx]), hx[3:], parent=self._form)
                if a.get("name"):
                    endpoint.fields[a["name"]] = [a.get("value", "")]
                self.forms.append(endpoint)
        if tag == "form":
            self._form = Form(self.page, urljoin(self.page, a.get("action") or self.page),
                              (a.get("method") or "get").lower())
            self.forms.append(self._form)
            return
        form = self._form
        if form is not None and tag == "option" and self._select:
            form.choices[self._select].append(a.get("value", ""))
            if "selected" in a:
                form.fields[self._select].append(a.get("value", ""))
        if form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                form.files.append(name)
            elif kind in ("checkbox", "radio"):
                form.fields.setdefault(name, [])
                if "checked" in a:
                    form.fields[name].append(a.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset"):
                form.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self._select = name
            form.fields.setdefault(name, [])
            form.choices.setdefault(name, [])
        elif tag == "textarea":
            self._textarea, self._text = name, []
            form.textareas.add(name)
        elif tag == "button" and a.get("value") is not None:
            form.fields.setdefault(name, []).append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._form is not None and self._textarea:
            self._form.fields.setdefault(self._textarea, []).append("".join(self._text))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def _followable(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return False
    return not parts.path.startswith(SKIP_PREFIXES) and not parts.path.endswith(SKIP_SUFFIXES)


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client, start: str = "/", limit: int = 400) -> tuple[dict[str, int], list[Form]]:
    """Every page reachable from `start` (its status) and one Form per distinct form shape."""
    seen_shapes: set[str] = set()
    pages: dict[str, int] = {}
    forms: dict[tuple, Form] = {}
    queue = [start]
    while queue and len(pages) < limit:
        url = local(queue.pop(0))
        shape = _shape(url)
        if url in pages or shape in seen_shapes:
            continue  # one page per shape: /tasks/1/ stands for every task page
        seen_shapes.add(shape)
        response = client.get(url)
        pages[url] = response.status_code
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _PageParser("http://testserver" + url)
        parser.feed(response.content.decode())
        parser.close()
        for form in parser.forms:
            if form.parent is not None:
                form.fields = {**form.parent.fields, **form.fields}
                form.files, form.choices = form.parent.files, form.parent.choices
                form.textareas = form.parent.textareas
            form.action = local(form.action)
            if _followable(form.action):
                forms.setdefault(form.key, form)
        queue += [link for link in parser.links if _followable(link)]
    return pages, list(forms.values())
