"""The script registry: every .lua file is registered, and no script names a key itself."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from redis.asyncio import Redis

from core.queues.scripts import Lua, script, source


def _lua_files() -> set[str]:
    folder = resources.files("core.queues").joinpath("lua")
    return {entry.name.removesuffix(".lua") for entry in folder.iterdir() if entry.name.endswith(".lua")}


def test_every_lua_file_is_registered_and_every_registration_has_a_file() -> None:
    assert _lua_files() == {name.value for name in Lua}


def _key_aliases(code: str) -> set[str]:
    """Locals bound straight to a KEYS[] entry (``local a, b = KEYS[k], KEYS[k + 1]``)."""
    aliases: set[str] = set()
    for names, values in re.findall(r"local ([\w, ]+?) = (.+)", code):
        for lhs, rhs in zip(names.split(","), re.split(r",(?![^\[]*\])", values), strict=False):
            if rhs.strip().startswith("KEYS["):
                aliases.add(lhs.strip())
    return aliases


@pytest.mark.parametrize("name", list(Lua))
def test_scripts_take_every_key_through_keys(name: Lua) -> None:
    code = "\n".join(line.split("--", 1)[0] for line in source(name).splitlines())
    assert not re.search(r"['\"](arq|integramon):", code), f"{name}.lua builds a key name"
    assert ".." not in code.replace("'(' ..", ""), f"{name}.lua concatenates strings (a key name?)"
    aliases = _key_aliases(code)
    calls = re.findall(r"redis\.call\('(\w+)',\s*([^,)]+)", code)
    assert calls
    for command, first in calls:
        if command == "PUBLISH":
            continue  # a channel, not a key
        target = first.strip()
        assert target.startswith("KEYS[") or target in aliases, f"{name}.lua: {command} on {target!r}"


def test_no_magic_numbers_in_scripts() -> None:
    for name in Lua:
        code = "\n".join(line.split("--", 1)[0] for line in source(name).splitlines())
        code = re.sub(r"(ARGV|KEYS)\[\d+\]", "", code)  # a fixed argument's position is no magic number
        numbers = {int(n) for n in re.findall(r"(?<![\w.])(\d+)(?![\w.])", code)}
        # small layout counts (values per job or per queue in ARGV/KEYS) and the ZADD chunk size
        assert numbers <= {0, 1, 2, 3, 4, 5, 6, 7, 1999, 2000}, f"{name}.lua: {sorted(numbers)}"


async def test_scripts_reload_after_redis_forgot_them(redis: Redis) -> None:
    run = script(redis, Lua.JOB_STATE)
    assert await run(keys=["arq:in-progress:x", "arq:job:x", "arq:queue:q"], args=["x"]) == [0]
    await redis.script_flush()
    assert await run(keys=["arq:in-progress:x", "arq:job:x", "arq:queue:q"], args=["x"]) == [0]
