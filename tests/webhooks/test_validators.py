"""Validators on their own: signatures per documented scheme, Basic, shared secrets, IP ranges."""
import base64
import hashlib
import hmac

from webhooks.validators import Delivery, signature, validate

BODY = b'{"event": "orders.created", "data": {"idorder": 1}}'


def delivery(headers=None, query=None, ip="198.51.100.7", body=BODY):
    return Delivery(body=body, headers={k.lower(): v for k, v in (headers or {}).items()} | (headers or {}),
                    query=query or {}, source_ip=ip)


def test_signature_matches_the_documented_schemes():
    # Picqer: base64(HMAC-SHA256(raw body, secret)); Timely: hex HMAC-SHA256 keyed with secret_token.
    assert signature(BODY, "k", "sha256", "base64") == base64.b64encode(
        hmac.new(b"k", BODY, hashlib.sha256).digest()).decode()
    assert signature(BODY, "k", "sha256", "hex", "sha256=") == "sha256=" + hmac.new(b"k", BODY, "sha256").hexdigest()


def test_hmac_with_prefix_and_upper_case_hex():
    config = {"hmac": {"header": "X-Hub-Signature-256", "algorithm": "sha256", "encoding": "hex",
                       "prefix": "sha256="}}
    good = signature(BODY, "s3cret", "sha256", "hex", "sha256=")
    assert validate(config, {"hmac": "s3cret"}, delivery({"X-Hub-Signature-256": good})) is None
    upper = "sha256=" + good.split("=", 1)[1].upper()
    assert validate(config, {"hmac": "s3cret"}, delivery({"X-Hub-Signature-256": upper})) is None
    refusal = validate(config, {"hmac": "s3cret"}, delivery({"X-Hub-Signature-256": good[7:]}))  # no prefix
    assert refusal.status == 403
    assert validate(config, {"hmac": "s3cret"}, delivery()).status == 401


def test_basic_shared_secret_and_ip():
    basic = {"basic": {"username": "alumio"}}
    token = "Basic " + base64.b64encode(b"alumio:pw-1234").decode()
    assert validate(basic, {"basic_password": "pw-1234"}, delivery({"Authorization": token})) is None
    wrong = "Basic " + base64.b64encode(b"alumio:pw-9999").decode()
    assert validate(basic, {"basic_password": "pw-1234"}, delivery({"Authorization": wrong})).status == 401
    assert validate(basic, {"basic_password": "pw-1234"}, delivery({"Authorization": "Basic !!"})).status == 401

    query = {"shared_secret": {"location": "query", "name": "token"}}
    assert validate(query, {"shared_secret": "t0ken"}, delivery(query={"token": "t0ken"})) is None
    assert validate(query, {"shared_secret": "t0ken"}, delivery(query={"token": "t0ke"})).status == 403

    ips = {"ip_allow_list": ["198.51.100.0/24"]}
    assert validate(ips, {}, delivery()) is None
    assert validate(ips, {}, delivery(ip="192.0.2.1")).status == 403
    assert validate(ips, {}, delivery(ip=None)).status == 403


def test_a_validator_without_its_secret_refuses_everything():
    config = {"shared_secret": {"location": "header", "name": "X-Secret"}}
    assert validate(config, {}, delivery({"X-Secret": "anything"})).status == 403
