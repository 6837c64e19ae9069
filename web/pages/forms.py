"""Reading HTML forms into command values, collecting every error at once.

Errors are codes (`required`, `date`, `number`, ...) that the templates
translate; errors from the service layer arrive as its own message and are
shown as they are, next to the field they name.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.datastructures import UploadFile

from domain.errors import DomainError
from domain.values import require_date
from web.pages.i18n import ErrorMessage

_SPLIT = re.compile(r"[,;\n]")


class Form:
    def __init__(self, data: Any):
        self.data = data
        self.errors: dict[str, str] = {}

    @classmethod
    async def read(cls, request: Request) -> "Form":
        return cls(await request.form())

    def raw(self, name: str) -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def values(self) -> dict[str, str]:
        """What the user typed, to fill the form again (never the CSRF token)."""
        return {k: v for k, v in self.data.items() if isinstance(v, str) and not k.startswith("_")}

    def error(self, name: str, code: str) -> None:
        self.errors.setdefault(name, code)

    @property
    def ok(self) -> bool:
        return not self.errors

    async def upload(self, name: str) -> tuple[str, bytes]:
        """A file field (multipart): the file's name and bytes; `required`
        when no file was chosen. What the bytes are, the service judges."""
        upload = self.data.get(name)
        if not isinstance(upload, UploadFile) or not upload.filename:
            self.error(name, "required")
            return "", b""
        return upload.filename, await upload.read()

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.raw(name)
        if required and not value:
            self.error(name, "required")
        return value

    def day(self, name: str, *, required: bool = True) -> date | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, "required")
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.error(name, "date")
            return None
        return self.within_calendar(name, day)

    def within_calendar(self, name: str, day: date) -> date | None:
        """The day if the product can compute with it (domain.values.require_date)."""
        try:
            return require_date(day, name)
        except DomainError as e:
            self.error(name, ErrorMessage(str(e), e.template, e.params))
            return None

    def decimal(self, name: str, *, required: bool = True) -> Decimal | None:
        value = self.raw(name).replace(" ", "").replace("€", "")
        if not value:
            if required:
                self.error(name, "required")
            return None
        # Accept Dutch (1.234,56) and English (1,234.56) writing.
        if "," in value and "." in value:
            value = value.replace(".", "").replace(",", ".") if value.rfind(",") > value.rfind(".") \
                else value.replace(",", "")
        elif "," in value:
            value = value.replace(",", ".")
        elif value.count(".") > 1:  # 2.400.000: dots as thousands separators
            value = value.replace(".", "")
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.error(name, "number")
            return None
        if not number.is_finite():
            self.error(name, "number")
            return None
        return number

    def integer(self, name: str, *, required: bool = True) -> int | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, "required")
            return None
        if not re.fullmatch(r"-?\d{1,9}", value):
            self.error(name, "number")
            return None
        return int(value)

    def ident(self, name: str, *, required: bool = True) -> UUID | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, "required")
            return None
        try:
            return UUID(value)
        except ValueError:
            self.error(name, "choice")
            return None

    def choice(self, name: str, choices: tuple[str, ...] | list[str], *, required: bool = True) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, "required")
            return None
        if value not in choices:
            self.error(name, "choice")
            return None
        return value

    def flag(self, name: str) -> bool:
        return self.raw(name) in ("on", "true", "1", "yes")

    def competences(self, name: str, *, required: bool = False) -> list[str]:
        items = [c.strip() for c in _SPLIT.split(self.raw(name)) if c.strip()]
        if required and not items:
            self.error(name, "required")
        return items
