"""The config's [scale] table: a run crawled by several workers through one Redis queue.

Owns the pydantic model of [scale] and the rule that needs the rest of the file
(the workers share one PostgreSQL database); monitor.config embeds `Scale` as
`Config.scale` (None without the table: nothing distributed, no Redis needed).
Must not connect to anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from monitor.config_errors import Loc

REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url(value: str) -> str:
    scheme = urlsplit(value).scheme.lower()
    if scheme not in REDIS_SCHEMES:
        raise PydanticCustomError("config", "{reason}", {
            "reason": f"expected redis://HOST:PORT/DB, rediss://… or unix://PATH, got {value!r}"})
    return value


def _prefix(value: str) -> str:
    if not value or any(c.isspace() or c in "{}" for c in value):
        raise PydanticCustomError("config", "{reason}", {
            "reason": f"a key prefix needs a word without spaces or braces, got {value!r}"})
    return value


class Scale(BaseModel):
    """[scale]: where the queue lives and how long a worker's hold on a site lasts without a heartbeat."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    redis_url: Annotated[str, AfterValidator(_redis_url), Field(repr=False)]
    key_prefix: Annotated[str, AfterValidator(_prefix)] = "govmon"
    lease_s: Annotated[float, Field(ge=1)] = 60.0       # a dead worker's sites go back to the queue after this
    batch_sites: Annotated[int, Field(gt=0)] = 16       # sites a worker takes at once (one crawl process)
    poll_s: Annotated[float, Field(gt=0, le=60)] = 1.0  # an idle worker looks for work this often
    run_works: bool = True                              # `govmon run` crawls and checks links as a worker
    # A worker with room and no site waiting joins a site under way whose frontier holds at least this many
    # URLs (spiders/sharedsite.py: the site's crawl state is in Redis); 0: each site is one worker's.
    share_from: Annotated[int, Field(ge=0)] = 0


def scale_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Rules of [scale] that read other tables, on TOML-shaped data."""
    if not isinstance(data.get("scale"), dict):
        return []
    storage = data.get("storage")
    url = storage.get("url") if isinstance(storage, dict) else None
    if not isinstance(url, str) or not url.startswith("postgresql"):
        return [(("scale",), "[scale] needs a PostgreSQL storage.url that every worker reaches "
                             "(postgresql+psycopg://…); SQLite is one machine's file")]
    return []
