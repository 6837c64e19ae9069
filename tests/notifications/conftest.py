"""Notifications tests: the API fixtures (a real app, real PostgreSQL) and a
real SMTP server (aiosmtpd on localhost) receiving the digests."""
from tests.api.conftest import client, new_org, org  # noqa: F401  (fixtures)
from tests.duties.conftest import smtp  # noqa: F401  (fixture)
from tests.projections.conftest import spawn  # noqa: F401,E402  (fixture)
