"""Named method profiles, so a user can reproduce the analysis style of a given tool."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from metamg import vocabulary


@dataclass(frozen=True)
class Profile:
    name: str
    method: str
    ci_method: str
    binary_common_effect: str  # what --method FE means for binary data
    description: str


PROFILES = MappingProxyType(
    {
        p.name: p
        for p in (
            Profile(
                "cochrane",
                "REML",
                "hk",
                "FE",
                "Cochrane Handbook 2024 random-effects methods: REML tau², Hartung-Knapp-Sidik-Jonkman "
                "CI, Q-profile tau² CI, prediction interval",
            ),
            Profile("metafor", "REML", "wald", "FE", "metafor's rma() defaults: REML tau², Wald (z) CI"),
            Profile(
                "revman5",
                "DL",
                "wald",
                "MH",
                "RevMan 5: DerSimonian-Laird tau², Wald (z) CI; the common-effect model for binary "
                "data is Mantel-Haenszel",
            ),
        )
    }
)
DEFAULT_PROFILE = vocabulary.DEFAULT_PROFILE
