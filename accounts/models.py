"""The permissions the roles are made of (Access: no table, Django only needs a model to hang them on),
each user's optional two-factor device and their recovery codes."""
import hashlib
import re
import secrets
import time
from base64 import b32encode, urlsafe_b64encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models, transaction
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.util import random_hex

from clients.crypto import EncryptedJSONField


class Access(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("see_dashboard", "See configurations, tasks, runs and request logs"),
            ("edit_connections", "Create and edit connections and transformers; run, retry, import and export"),
            ("manage_secrets", "Change HTTP Client secrets and hosts, environment variables and system schedules"),
            ("manage_users", "Invite users, change their roles, deactivate them"),
        ]


class TwoFactorDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's TOTP authenticator (django-otp), with its secret encrypted at rest.

    Like django-otp's TOTPDevice, but the key lives in an EncryptedJSONField (so
    `rotate_encryption_key` covers it) and is never shown once the device is confirmed.
    Wrong codes back off exponentially (ThrottlingMixin) on top of django-axes' per-account lock.
    """

    stored = EncryptedJSONField(default=dict, blank=True)  # {"key": hex}
    step = models.PositiveSmallIntegerField(default=30)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)  # not learned from codes: one step of tolerance either way
    last_t = models.BigIntegerField(default=-1)  # a code is accepted once: the next must be newer

    class Meta(Device.Meta):
        verbose_name = "two-factor device"

    @classmethod
    def start(cls, user) -> "TwoFactorDevice":
        """A new unconfirmed device with a fresh random key (replacing any earlier unconfirmed one)."""
        cls.objects.filter(user=user, confirmed=False).delete()
        return cls.objects.create(user=user, name="Authenticator app", confirmed=False,
                                  stored={"key": random_hex(20)})

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.stored["key"].encode())

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        token = str(token or "").replace(" ", "").strip()
        verified = False
        if token.isdigit() and len(token) == self.digits:
            totp = TOTP(self.bin_key, self.step, 0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(int(token), self.tolerance, self.last_t + 1)
        if verified:
            self.last_t = totp.t()
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def config_url(self) -> str:
        """otpauth:// URL for authenticator apps (only used while setting up)."""
        label = quote(f"alumio-lite:{self.user.get_username()}")
        params = urlencode({"secret": self.base32_key(), "algorithm": "SHA1", "digits": self.digits,
                            "period": self.step, "issuer": "alumio-lite"})
        return f"otpauth://totp/{label}?{params}"

    def base32_key(self) -> str:
        return b32encode(self.bin_key).decode()


class RecoveryCodes(StaticDevice):
    """A user's recovery codes: django-otp's StaticDevice (at most one per user), each StaticToken one code.

    django-otp keeps static tokens in clear (StaticToken.token, 16 characters). Here the column holds a
    hash instead: SHA-256 of the device id and the code, 96 bits of it in base64 (fits the column).
    A fast hash is enough because the codes are random with 80 bits each (not passwords a slow hash
    must protect); it has no key so that rotating SECRET_KEY or the encryption keys cannot lock
    anybody out. The codes themselves exist only in the one response that shows them.
    A proxy, not a table of our own: same rows, only verify_token hashes what it is given.
    """

    COUNT = 10  # codes in a new set
    LENGTH = 16  # base32 characters of a code (80 bits), shown as four groups of four

    class Meta:
        proxy = True
        verbose_name = "recovery codes"

    @staticmethod
    def normalize(code) -> str:
        """What people type: any case, with the dashes or spaces shown between groups, or without."""
        return re.sub(r"[\s-]", "", str(code or "")).lower()

    def digest(self, code) -> str:
        raw = hashlib.sha256(f"alumio-lite recovery code {self.pk}:{self.normalize(code)}".encode()).digest()
        return urlsafe_b64encode(raw).decode()[:StaticToken._meta.get_field("token").max_length]

    @classmethod
    def replace_for(cls, user) -> list[str]:
        """A new set of codes for `user`, replacing any earlier set; returns them for the one showing."""
        codes = [b32encode(secrets.token_bytes(cls.LENGTH * 5 // 8)).decode().lower() for _ in range(cls.COUNT)]
        with transaction.atomic():
            device = cls.objects.filter(user=user).first() or cls.objects.create(user=user, name="Recovery codes")
            device.token_set.all().delete()
            StaticToken.objects.bulk_create([StaticToken(device=device, token=device.digest(c)) for c in codes])
        return ["-".join(c[i:i + 4] for i in range(0, cls.LENGTH, 4)) for c in codes]

    @classmethod
    def remaining(cls, user) -> int:
        return StaticToken.objects.filter(device__user=user).count()

    def verify_token(self, token) -> bool:
        """True, and the code is gone, if `token` is one of the unused codes. Wrong codes back off the device."""
        if not self.verify_is_allowed()[0]:
            return False
        code = self.normalize(token)
        used = 0
        if len(code) == self.LENGTH:
            # One DELETE decides: two requests racing with the same code cannot both succeed.
            used, _ = self.token_set.filter(token=self.digest(code)).delete()
        if used:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return bool(used)

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)
