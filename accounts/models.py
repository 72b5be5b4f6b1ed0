"""The permissions the roles are made of (Access: no table, Django only needs a model to hang them on),
and each user's optional two-factor device."""
import time
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
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
