"""The five platform fakes: each checks its platform's credentials exactly and pages its way.

Every fake also knows the HTTP Client fields that reach it: `fake.client_settings()` and
`fake.client_secrets()` (or `fake.make_client(identifier=...)`, which saves an HttpClient
pointing at the fake; needs the database).
"""
from __future__ import annotations

import base64
import math
import re
from typing import Any

from . import media
from .server import FakePlatform, Received, Reply


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class _ClientMixin:
    platform: str

    def client_settings(self) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    def client_secrets(self) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    def client_tokens(self) -> dict:
        return {}

    def make_client(self, identifier: str | None = None, *, log_requests: bool = False, name: str | None = None):
        """Save an HttpClient for this fake (needs the database; use the `db` fixture)."""
        from clients.models import HttpClient

        identifier = identifier or f"fake-{self.platform}"
        tokens = self.client_tokens()
        return HttpClient.objects.create(
            name=name or f"Fake {self.platform}",
            identifier=identifier,
            platform=self.platform,
            settings=self.client_settings(),
            secrets=self.client_secrets(),
            tokens=tokens,
            auth_state="granted" if tokens else "credentials",
            log_requests=log_requests,
        )


class FakePicqer(_ClientMixin, FakePlatform):
    """Picqer: Basic auth with the API key as user and an empty password; a User-Agent is required.

    Lists are bare arrays of at most 100 records, paged with ?offset=.
    """

    platform = "picqer"
    prefix = "/api/v1"
    PAGE = 100

    def __init__(self, records: int = 0, *, api_key: str = "picqer-key-4f1c9e2a7b", **kwargs: Any):
        super().__init__(records, **kwargs)
        self.api_key = api_key

    # Picqer wants the application's name and a contact (website or e-mail) in the User-Agent.
    USER_AGENT = re.compile(r"^\S+.*\((?:[^()]*@[^()]*|[^()]*https?://[^()]*)\)")

    def authorized(self, request: Received) -> bool:
        return request.header("Authorization") == _basic(self.api_key, "") and bool(
            self.USER_AGENT.match(request.header("User-Agent") or "")
        )

    def unauthorized(self, request: Received) -> Reply:
        # Right key, wrong User-Agent: Picqer says what is missing instead of "Invalid API key".
        if request.header("Authorization") == _basic(self.api_key, "") and not self.USER_AGENT.match(
            request.header("User-Agent") or ""
        ):
            return Reply(400, {"error": True, "error_code": 1,
                               "error_message": "Provide a User-Agent with your application name and a contact"})
        return Reply(401, {"error": True, "error_code": 3, "error_message": "Invalid API key"})

    def list_page(self, request: Received) -> Reply:
        offset = _int(request.query.get("offset"), 0)
        return Reply(200, self.records(offset, self.PAGE))

    def client_settings(self) -> dict:
        return {"base_uri": self.base_uri}

    def client_secrets(self) -> dict:
        return {"api_key": self.api_key}


class FakePipedrive(_ClientMixin, FakePlatform):
    """Pipedrive: `x-api-token` header (or a Bearer token in OAuth mode); {"success","data","additional_data"}.

    /api/v1 lists page with start/limit (more_items_in_collection, next_start); /api/v2 lists and
    any request carrying `cursor` page with cursor/limit (next_cursor, null at the end).
    """

    platform = "pipedrive"
    prefix = "/api"

    def __init__(
        self,
        records: int = 0,
        *,
        api_token: str = "pd-token-9a8b7c6d5e4f",
        access_token: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(records, **kwargs)
        self.api_token = api_token
        self.access_token = access_token  # set: OAuth mode, the API token is refused

    def authorized(self, request: Received) -> bool:
        if self.access_token:
            return request.header("Authorization") == f"Bearer {self.access_token}"
        return request.header("x-api-token") == self.api_token

    def unauthorized(self, request: Received) -> Reply:
        return Reply(401, {"success": False, "error": "unauthorized access", "errorCode": 401, "data": None})

    v2_missing = False  # True: /api/v2 answers 404, as under a Base URI that cannot reach v2

    def answer(self, request: Received) -> Reply:
        # Like the real API, v1 also answers without /api (https://api.pipedrive.com/v1); v2 does not.
        if request.path.startswith("/v1/"):
            request.path = "/api" + request.path
        return super().answer(request)

    def intercept(self, request: Received) -> Reply | None:
        """415 for a body in another media type than the spec's, 406 for an Accept that rules out
        the answer's; "Download one file" answers with the file's bytes."""
        path = request.path[len(self.prefix):]
        if self.v2_missing and path.startswith("/v2/"):
            return Reply(404, {"success": False, "error": "Unknown method .", "errorCode": 404})
        content_type = request.header("Content-Type")
        if request.raw_body:
            wanted = media.body_type(request.method, path)
            if media.bare(content_type) != wanted:
                return Reply(415, {"success": False, "error": f"Unsupported Media Type: send {wanted}",
                                   "errorCode": 415})
            if wanted != media.JSON:
                request.body = media.parse_body(content_type, request.raw_body)
        answer, match = media.answer_type(request.method, path)
        if not media.accepts(request.header("Accept"), answer):
            return Reply(406, {"success": False, "error": f"Not Acceptable: this answers {answer}", "errorCode": 406})
        if match is not None:
            file_id = match.group("id")
            return Reply(200, self.file_bytes(file_id), {
                "Content-Type": answer, "Content-Disposition": f'attachment; filename="report-{file_id}.pdf"'})
        return None

    @staticmethod
    def file_bytes(file_id: str) -> bytes:
        """The content of file `file_id`: not UTF-8 on purpose, so any text decoding shows."""
        return b"%PDF-1.4\n\x00\xff\xfe binary " + file_id.encode() + bytes(range(256)) * 40  # 10 kB

    def single(self, request: Received, record_id: int) -> Reply:
        reply = super().single(request, record_id)
        if reply.status == 200:
            return Reply(200, {"success": True, "data": reply.body})
        return Reply(404, {"success": False, "error": "Not found", "data": None})

    def destination(self, request: Received) -> Reply:
        reply = super().destination(request)
        return Reply(201, {"success": True, "data": reply.body})

    def list_page(self, request: Received) -> Reply:
        limit = min(500, _int(request.query.get("limit"), 100))
        if request.path.startswith("/api/v2") or "cursor" in request.query:
            cursor = request.query.get("cursor")
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
            data = self.records(start, limit)
            following = start + len(data)
            next_cursor = base64.urlsafe_b64encode(str(following).encode()).decode() if following < self.total else None
            return Reply(200, {"success": True, "data": data, "additional_data": {"next_cursor": next_cursor}})
        start = _int(request.query.get("start"), 0)
        data = self.records(start, limit)
        more = start + len(data) < self.total
        pagination = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = start + len(data)
        return Reply(200, {"success": True, "data": data or None, "additional_data": {"pagination": pagination}})

    def client_settings(self) -> dict:
        if self.access_token:
            return {"base_uri": self.base_uri, "auth_type": "oauth2", "client_id": "pd-app"}
        return {"base_uri": self.base_uri, "auth_type": "api_token"}

    def client_secrets(self) -> dict:
        if self.access_token:
            return {"client_secret": "pd-client-secret-77aa"}
        return {"api_token": self.api_token}

    def client_tokens(self) -> dict:
        if self.access_token:
            return {"access_token": self.access_token, "refresh_token": "pd-refresh-55bb", "token_type": "Bearer"}
        return {}


class FakeConnectWise(_ClientMixin, FakePlatform):
    """ConnectWise: Basic `companyId+publicKey:privateKey` AND a `clientId` header; page/pageSize + Link."""

    platform = "connectwise"
    prefix = "/v4_6_release/apis/3.0"

    def __init__(
        self,
        records: int = 0,
        *,
        company_id: str = "acme",
        public_key: str = "PUBkey1234",
        private_key: str = "PRIVkey-5678-secret",
        client_id: str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        link_header: bool = True,
        **kwargs: Any,
    ):
        super().__init__(records, **kwargs)
        self.company_id, self.public_key, self.private_key = company_id, public_key, private_key
        self.client_id = client_id
        self.link_header = link_header

    def authorized(self, request: Received) -> bool:
        expected = _basic(f"{self.company_id}+{self.public_key}", self.private_key)
        return request.header("Authorization") == expected and request.header("clientId") == self.client_id

    def unauthorized(self, request: Received) -> Reply:
        return Reply(401, {"code": "Unauthorized", "message": "Authentication failed", "errors": None})

    def intercept(self, request: Received) -> Reply | None:
        """The spec's one multipart operation (document upload) and a document download's bytes."""
        path = request.path[len(self.prefix):]
        if request.method == "POST" and path == "/system/documents":
            if media.bare(request.header("Content-Type")) != media.MULTIPART:
                return Reply(415, {"code": "UnsupportedMediaType", "message": "send multipart/form-data"})
            request.body = media.parse_body(request.header("Content-Type"), request.raw_body)
        download = re.fullmatch(r"/system/documents/(\d+)/download", path)
        if request.method == "GET" and download:
            disposition = f'attachment; filename="doc-{download[1]}.png"'
            return Reply(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
                         {"Content-Type": "image/png", "Content-Disposition": disposition})
        return None

    def list_page(self, request: Received) -> Reply:
        page = max(1, _int(request.query.get("page"), 1))
        size = min(1000, max(1, _int(request.query.get("pageSize"), 25)))
        data = self.records((page - 1) * size, size)
        headers = {}
        if self.link_header:
            last = max(1, math.ceil(self.total / size))
            base = f"{self.origin}{request.path}"
            links = []
            if page < last:
                links.append(f'<{base}?pageSize={size}&page={page + 1}>; rel="next"')
            links.append(f'<{base}?pageSize={size}&page={last}>; rel="last"')
            headers["Link"] = ", ".join(links)
        return Reply(200, data, headers)

    def client_settings(self) -> dict:
        return {"base_uri": self.base_uri, "client_id": self.client_id, "company_id": self.company_id,
                "public_key": self.public_key}

    def client_secrets(self) -> dict:
        return {"private_key": self.private_key}


class FakeTimely(_ClientMixin, FakePlatform):
    """Timely: `Authorization: Bearer <token>`; page/per_page, or offset/limit when either is sent.

    POST .../reports/filter pages inside its JSON body: offset/limit (limit at most 100, else
    422) or page with that limit; a body that is not a JSON object is refused with 400.
    """

    platform = "timely"
    prefix = ""

    def __init__(self, records: int = 0, *, access_token: str = "timely-access-31c4d5e6", **kwargs: Any):
        super().__init__(records, **kwargs)
        self.access_token = access_token

    def authorized(self, request: Received) -> bool:
        return request.header("Authorization") == f"Bearer {self.access_token}"

    def unauthorized(self, request: Received) -> Reply:
        return Reply(401, {"errors": {"message": "Unauthorized"}})

    def is_list_read(self, request: Received) -> bool:
        # Reports are read with POST.
        return request.method == "GET" or (request.method == "POST" and "/reports" in request.path)

    REPORT_LIMIT = 100

    def report_page(self, request: Received) -> Reply:
        body = request.body if request.body is not None else {}
        if not isinstance(body, dict):
            return Reply(400, {"errors": {"message": "the filter must be a JSON object"}})
        limit = _int(body.get("limit"), self.REPORT_LIMIT)
        if not 1 <= limit <= self.REPORT_LIMIT:
            return Reply(422, {"errors": {"limit": [f"must be between 1 and {self.REPORT_LIMIT}"]}})
        if "offset" in body:
            offset = _int(body.get("offset"), 0)
        else:
            offset = (max(1, _int(body.get("page"), 1)) - 1) * limit
        return Reply(200, self.records(offset, limit))

    def list_page(self, request: Received) -> Reply:
        if request.method == "POST" and request.path.endswith("/reports/filter"):
            return self.report_page(request)
        if "offset" in request.query or "limit" in request.query:
            offset = _int(request.query.get("offset"), 0)
            limit = _int(request.query.get("limit"), 100)
            return Reply(200, self.records(offset, limit))
        page = max(1, _int(request.query.get("page"), 1))
        per_page = _int(request.query.get("per_page"), 100)
        return Reply(200, self.records((page - 1) * per_page, per_page))

    def client_settings(self) -> dict:
        return {"base_uri": self.base_uri, "client_id": "timely-app-id"}

    def client_secrets(self) -> dict:
        return {"client_secret": "timely-client-secret-8899"}

    def client_tokens(self) -> dict:
        return {"access_token": self.access_token, "refresh_token": "timely-refresh-1122", "token_type": "bearer"}


class FakeCopper(_ClientMixin, FakePlatform):
    """Copper: X-PW-AccessToken + X-PW-Application (developer_api) + X-PW-UserEmail, or Bearer.

    Lists are POST /<plural>/search with page_number/page_size (max 200) in the body and an
    X-PW-TOTAL header. Writes answer 200 with the record, as Copper does.
    """

    platform = "copper"
    prefix = "/developer_api/v1"

    def __init__(
        self,
        records: int = 0,
        *,
        api_key: str = "copper-key-0d9e8f7a",
        email: str = "owner@example.com",
        access_token: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(records, **kwargs)
        self.api_key, self.email, self.access_token = api_key, email, access_token

    def authorized(self, request: Received) -> bool:
        if self.access_token:
            return request.header("Authorization") == f"Bearer {self.access_token}"
        return (
            request.header("X-PW-AccessToken") == self.api_key
            and request.header("X-PW-Application") == "developer_api"
            and request.header("X-PW-UserEmail") == self.email
        )

    def is_list_read(self, request: Received) -> bool:
        return request.method == "GET" or (request.method == "POST" and request.path.endswith("/search"))

    def list_page(self, request: Received) -> Reply:
        if request.method == "GET":
            return Reply(200, self.records(0, self.total))
        body = request.body if isinstance(request.body, dict) else {}
        size = _int(body.get("page_size"), 20)
        if not 1 <= size <= 200:
            return Reply(422, {"success": False, "status": 422, "message": "page_size must be between 1 and 200"})
        number = max(1, _int(body.get("page_number"), 1))
        return Reply(200, self.records((number - 1) * size, size), {"X-PW-TOTAL": str(self.total)})

    def destination(self, request: Received) -> Reply:
        reply = super().destination(request)
        return Reply(200, reply.body)

    def client_settings(self) -> dict:
        if self.access_token:
            return {"base_uri": self.base_uri, "auth_type": "oauth2", "client_id": "copper-app"}
        return {"base_uri": self.base_uri, "auth_type": "api_keys", "application": "developer_api",
                "user_email": self.email}

    def client_secrets(self) -> dict:
        if self.access_token:
            return {"client_secret": "copper-client-secret-3344"}
        return {"access_token": self.api_key}

    def client_tokens(self) -> dict:
        if self.access_token:
            return {"access_token": self.access_token, "token_type": "Bearer"}
        return {}


FAKES: dict[str, type[FakePlatform]] = {
    "picqer": FakePicqer,
    "pipedrive": FakePipedrive,
    "connectwise": FakeConnectWise,
    "timely": FakeTimely,
    "copper": FakeCopper,
}
