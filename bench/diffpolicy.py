"""Policy, statement and condition generation for the differential generator (mixed into Generator)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from diffworld import (
    ACCOUNT_A,
    ACCOUNT_B,
    ACTIONS,
    BASE_TIME,
    BLOBS,
    CIDRS,
    KEYS,
    OPERATORS,
    ORG_A,
    ORG_OTHER,
    OTHER_ACTIONS,
    REGIONS,
    SERVICES,
    TAG_KEYS,
    TEAMS,
    V2012,
    ActionSpec,
    Who,
    iso,
    resource_for,
)

__all__ = ["PolicyMaker"]


class PolicyMaker:
    """Draws policies that name the current request's action, resource and principal often enough."""

    rng: random.Random
    who: Who
    action: str
    resource: str
    owner: str
    context: dict[str, Any]

    # ---- policies ----------------------------------------------------------------------------
    def policy(self, layer: str, statements: int | None = None) -> dict[str, Any]:
        rng = self.rng
        n = statements or rng.choices((1, 2, 3), (5, 3, 1))[0]
        sts = [self.statement(layer, first=i == 0) for i in range(n)]
        return {"Version": V2012, "Statement": sts if len(sts) > 1 or rng.random() < 0.5 else sts[0]}

    def statement(self, layer: str, *, first: bool = False) -> dict[str, Any]:
        rng = self.rng
        deny_p = {"identity": 0.25, "boundary": 0.1, "session": 0.1, "scp": 0.45, "rcp": 0.8}[layer]
        effect = "Allow" if (first and layer != "rcp") or rng.random() >= deny_p else "Deny"
        st: dict[str, Any] = {"Effect": effect}
        if rng.random() < 0.15:
            st["Sid"] = f"S{rng.randint(0, 99)}"
        if layer == "rcp":
            st["Principal"] = "*"
        if rng.random() < 0.12:
            st["NotAction"] = self.actions(match_bias=0.3)
        else:
            st["Action"] = self.actions(match_bias=0.75 if effect == "Allow" else 0.6)
        if rng.random() < 0.1:
            st["NotResource"] = self.resources(match_bias=0.3)
        else:
            st["Resource"] = self.resources(match_bias=0.75)
        p_cond = {"scp": 0.45, "rcp": 0.8}.get(layer, 0.4)
        if rng.random() < p_cond:
            st["Condition"] = self.condition_block(layer)
        return st

    def actions(self, match_bias: float) -> Any:
        rng = self.rng
        svc, name = self.action.split(":")
        out = []
        for _ in range(rng.choices((1, 2, 3), (6, 3, 1))[0]):
            if rng.random() < match_bias:
                out.append(
                    rng.choice(
                        (
                            self.action,
                            f"{svc}:*",
                            f"{svc}:{name[:3]}*",
                            "*",
                            self.action.upper(),
                            f"{svc.upper()}:{name.lower()}",
                            f"{svc}:{name[:-2]}??",
                            f"{svc}:*{name[-4:]}",
                        )
                    )
                )
            else:
                out.append(rng.choice(OTHER_ACTIONS + tuple(a.action for a in ACTIONS)))
        return out[0] if len(out) == 1 and rng.random() < 0.6 else out

    def resources(self, match_bias: float) -> Any:
        rng = self.rng
        out = []
        for _ in range(rng.choices((1, 2), (7, 3))[0]):
            if rng.random() < match_bias:
                out.append(self.matching_resource())
            else:
                other = resource_for(rng.choice(ACTIONS).action, rng.choice((ACCOUNT_A, ACCOUNT_B)), rng)
                out.append(rng.choice((other, "arn:aws:s3:::other-bucket/*", "arn:aws:iam::*:role/Nope")))
        return out[0] if len(out) == 1 and rng.random() < 0.6 else out

    def matching_resource(self) -> str:
        """A pattern that often (not always) covers the request resource."""
        rng, r = self.rng, self.resource
        if r == "*" or rng.random() < 0.3:
            return "*"
        head, _, tail = r.rpartition("/") if "/" in r.split(":", 5)[-1] else r.rpartition(":")
        sep = "/" if "/" in r.split(":", 5)[-1] else ":"
        parts = r.split(":", 5)
        choices = [
            r,
            f"{head}{sep}*",
            f"{head}{sep}{tail[:2]}*",
            f"{head}{sep}{tail[:-1]}?",
            ":".join([*parts[:3], "*", parts[4], parts[5]]) if parts[3] else r,
            ":".join([*parts[:4], "*", parts[5]]) if parts[4] else r,
            ":".join(parts[:5]) + ":*",
        ]
        if r.startswith("arn:aws:s3:::") and "/" in r:
            b = r.split(":::")[1].split("/")[0]
            choices += [
                f"arn:aws:s3:::{b}/${{aws:username}}/*",
                f"arn:aws:s3:::{b}/${{aws:PrincipalTag/team}}/*",
                f"arn:aws:s3:::{b}/${{aws:PrincipalTag/team, 'shared'}}/*",
                f"arn:aws:s3:::{b}/*/*.txt",
            ]
        if ":role/" in r:
            choices += [f"{head}/${{aws:PrincipalTag/team}}*", r.replace(parts[4], "*")]
        if rng.random() < 0.04:  # rarer shapes: a short ARN, or a case difference in one segment
            return rng.choice(
                (
                    ":".join(parts[:3]) + ":*",
                    ":".join([*parts[:2], parts[2].upper(), *parts[3:]]),
                    ":".join([*parts[:5], parts[5].upper()]),
                )
            )
        return rng.choice(choices)

    # ---- conditions --------------------------------------------------------------------------
    def condition_block(self, layer: str) -> dict[str, Any]:
        rng = self.rng
        block: dict[str, dict[str, Any]] = {}
        for _ in range(rng.choices((1, 2, 3), (6, 3, 1))[0]):
            op, key, values = self.condition(layer)
            block.setdefault(op, {})[key] = values
        return block

    def condition(self, layer: str) -> tuple[str, str, Any]:
        rng, ctx = self.rng, self.context
        present = [k for k in KEYS if k in ctx]
        if layer == "rcp" and rng.random() < 0.5:
            key = rng.choice(
                (
                    "aws:PrincipalOrgID",
                    "aws:PrincipalIsAWSService",
                    "aws:SecureTransport",
                    "aws:PrincipalAccount",
                    "aws:SourceIp",
                )
            )
        elif present and rng.random() < 0.75:
            key = rng.choice(present)
        else:
            key = rng.choice(list(KEYS)) if rng.random() < 0.8 else "aws:PrincipalIsAWSService"
        ktype, multi = KEYS.get(key, ("bool", False))
        if rng.random() < 0.07:
            return "Null", key, rng.choice(("true", "false"))
        base = rng.choice(OPERATORS[ktype])
        qualifier = ""
        if (multi and rng.random() < 0.93) or (not multi and ktype in ("str", "arn") and rng.random() < 0.04):
            qualifier = rng.choice(("ForAllValues:", "ForAnyValue:"))
        if_exists = "IfExists" if rng.random() < 0.18 else ""
        values = self.values(key, ktype, base)
        if isinstance(values, list) and len(values) == 1 and rng.random() < 0.5:
            values = values[0]
        if rng.random() < 0.05:  # key names are case-insensitive
            key = key.upper() if rng.random() < 0.5 else key.lower()
        return f"{qualifier}{base}{if_exists}", key, values

    def values(self, key: str, ktype: str, base: str) -> list[str]:
        rng = self.rng
        actual = self.context.get(key)
        n = rng.choices((1, 2, 3), (6, 3, 1))[0]
        out: list[str] = []
        for _ in range(n):
            hit = actual is not None and rng.random() < 0.55
            one = actual if not isinstance(actual, list) else (rng.choice(actual) if actual else None)
            out.append(self.value(key, ktype, base, one if hit else None))
        return out

    def value(self, key: str, ktype: str, base: str, actual: str | None) -> str:
        rng = self.rng
        if ktype == "bool":
            return actual if actual is not None else rng.choice(("true", "false"))
        if ktype == "bin":
            return actual if actual is not None else rng.choice(BLOBS)
        if ktype == "ip":
            if actual is not None and ":" not in actual:
                a = actual.split(".")
                return rng.choice((actual, f"{a[0]}.{a[1]}.{a[2]}.0/24", f"{a[0]}.0.0.0/8"))
            return rng.choice(CIDRS)
        if ktype == "num":
            if actual is not None:
                v = int(float(actual))
                return str(rng.choice((v, v - 1, v + 1, f"{v}.0")))
            return str(rng.choice((10, 60, 300, 1000, 3600)))
        if ktype == "date":
            t = BASE_TIME + timedelta(days=rng.randint(-500, 500))
            if actual is not None:
                t = (
                    datetime.fromtimestamp(int(actual), UTC)
                    if actual.isdigit()
                    else datetime.fromisoformat(actual.replace("Z", "+00:00"))
                )
                t += timedelta(days=rng.choice((0, 0, -1, 1, -30, 30)))
            if key == "aws:EpochTime" and rng.random() < 0.6:
                return str(int(t.timestamp()))
            return rng.choice((iso(t), t.strftime("%Y-%m-%d"), iso(t)))
        if ktype == "arn":
            return self.arn_value(actual)
        return self.string_value(key, base, actual)

    def arn_value(self, actual: str | None) -> str:
        rng, who = self.rng, self.who
        if actual is not None:
            parts = actual.split(":", 5)
            return rng.choice(
                (
                    actual,
                    ":".join([*parts[:4], "*", parts[5]]),
                    ":".join(parts[:5]) + ":" + parts[5].split("/")[0] + "/*",
                    actual[:-1] + "?",
                )
            )
        acct = who.account or ACCOUNT_A
        return rng.choice(
            (
                f"arn:aws:iam::{acct}:role/Admin",
                f"arn:aws:iam::{acct}:user/alice",
                f"arn:aws:iam::{ACCOUNT_B}:role/*",
                f"arn:aws:iam::{acct}:role/${{aws:PrincipalTag/team}}",
                f"arn:aws:iam::{acct}:user/${{aws:username}}",
                f"arn:aws:cloudtrail:*:{ACCOUNT_A}:trail/*",
            )
        )

    def string_value(self, key: str, base: str, actual: str | None) -> str:
        rng = self.rng
        if actual is not None:
            like = "Like" in base
            forms = [actual, actual.upper() if actual.lower() == actual else actual.lower()]
            if like and actual:
                forms += [actual[:2] + "*", "*" + actual[-2:], actual[:-1] + "?", "*"]
            return rng.choice(forms)
        if rng.random() < 0.15:
            return rng.choice(
                (
                    "${aws:username}",
                    "${aws:PrincipalTag/team}",
                    "${aws:PrincipalTag/team, 'red'}",
                    "${aws:username}/*",
                    "${aws:PrincipalTag/env}",
                )
            )
        pools = {
            "aws:RequestedRegion": REGIONS,
            "aws:PrincipalOrgID": (ORG_A, ORG_OTHER),
            "aws:PrincipalAccount": (ACCOUNT_A, ACCOUNT_B),
            "aws:ResourceAccount": (ACCOUNT_A, ACCOUNT_B),
            "aws:PrincipalType": ("User", "AssumedRole"),
            "aws:TagKeys": TAG_KEYS,
            "aws:PrincipalOrgPaths": (f"{ORG_A}/r-ab12/*", f"{ORG_A}/r-ab12/ou-ab12-11111111/", "o-*/r-zz/*"),
            "aws:CalledVia": ("cloudformation.amazonaws.com", "athena.amazonaws.com"),
            "kms:EncryptionContextKeys": ("dept", "app"),
            "sts:ExternalId": ("Unique-ID-123",),
            "aws:SourceVpc": ("vpc-111bbb22",),
            "s3:prefix": ("alice/", "shared/*", ""),
        }
        return rng.choice(pools.get(key, (*TEAMS, "alice", "apollo", "prod", "team-a")))

    # ---- resource policies -------------------------------------------------------------------
    def resource_policy(self, spec: ActionSpec) -> dict[str, Any]:
        rng = self.rng
        n = rng.choices((1, 2, 3), (5, 3, 2))[0]
        sts = [self.rbp_statement(spec, first=i == 0) for i in range(n)]
        return {"Version": V2012, "Statement": sts}

    def principal_element(self) -> Any:
        rng, who = self.rng, self.who
        acct = who.account or ACCOUNT_A
        options: list[Any] = [
            "*",
            {"AWS": "*"},
            {"AWS": acct},
            {"AWS": f"arn:aws:iam::{acct}:root"},
            {"AWS": f"arn:aws:iam::{self.owner}:root"},
            {"AWS": f"arn:aws:iam::{acct}:user/alice"},
            {"AWS": f"arn:aws:iam::{acct}:role/AppRole"},
            {"Service": rng.choice(SERVICES)},
        ]
        if who.entity:
            options += [{"AWS": who.entity}] * 3
        if who.kind == "session":
            options += [{"AWS": who.value}] * 2
        if who.kind == "service":
            options += [{"Service": who.value}] * 3
        el = rng.choice(options)
        if isinstance(el, dict) and "AWS" in el and rng.random() < 0.25:
            el = {"AWS": [el["AWS"], rng.choice((f"arn:aws:iam::{ACCOUNT_B}:user/bob", ACCOUNT_B))]}
        return el

    def rbp_statement(self, spec: ActionSpec, *, first: bool) -> dict[str, Any]:
        rng = self.rng
        effect = "Allow" if first or rng.random() < 0.7 else "Deny"
        st: dict[str, Any] = {"Effect": effect}
        if effect == "Deny" and rng.random() < 0.3 and spec.rbp != "trust":
            who = self.who
            listed = [who.entity or f"arn:aws:iam::{ACCOUNT_A}:user/alice"]
            if who.kind == "session" and rng.random() < 0.5:
                listed.append(who.value)
            if rng.random() < 0.4:
                listed.append(f"arn:aws:iam::{who.account or ACCOUNT_A}:root")
            st["NotPrincipal"] = {"AWS": listed if len(listed) > 1 else listed[0]}
        else:
            st["Principal"] = self.principal_element()
        if spec.rbp == "trust":
            st["Action"] = rng.choice(
                ("sts:AssumeRole", ["sts:AssumeRole", "sts:TagSession"], "sts:*", "sts:AssumeRoleWithSAML")
            )
        else:
            st["Action"] = self.actions(match_bias=0.8)
            st["Resource"] = self.resources(match_bias=0.8) if spec.rbp != "key" or rng.random() < 0.3 else "*"
        if rng.random() < 0.4:
            st["Condition"] = self.condition_block("resource")
        elif st.get("Principal") == "*" and rng.random() < 0.5:
            st["Condition"] = {
                rng.choice(("ArnLike", "ArnEquals")): {
                    "aws:PrincipalArn": self.arn_value(self.context.get("aws:PrincipalArn"))
                }
            }
        return st

    # ---- organizations -----------------------------------------------------------------------
    def org_levels(self, layer: str) -> list[dict[str, Any]]:
        rng = self.rng
        levels = []
        for i in range(rng.choices((1, 2, 3), (4, 4, 2))[0]):
            policies = []
            if layer == "scp" and rng.random() < 0.75:
                policies.append(
                    {
                        "Version": V2012,
                        "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
                    }
                )
            if layer == "rcp" or not policies or rng.random() < 0.5:
                policies.append(self.policy(layer))
            levels.append({"orgIdentifier": ("r-root", "ou-mid", "acct")[i], "policies": policies})
        return levels
