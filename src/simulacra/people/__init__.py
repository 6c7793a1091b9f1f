"""Simulated people: personas, and populations sampled from attribute distributions."""

from simulacra.people._persona import (
    BigFive,
    Persona,
    WritingStyle,
    builtin_personas,
    load_personas,
    parse_personas,
)
from simulacra.people._population import Beta, Choice, Normal, Population, Uniform
from simulacra.people._profile import (
    Interaction,
    LengthProfile,
    Profile,
    builtin_profiles,
    draw_profile,
    load_profiles,
    parse_profiles,
    sample_profiles,
)

__all__ = [
    "Beta",
    "BigFive",
    "Choice",
    "Interaction",
    "LengthProfile",
    "Normal",
    "Persona",
    "Population",
    "Profile",
    "Uniform",
    "WritingStyle",
    "builtin_personas",
    "builtin_profiles",
    "draw_profile",
    "load_personas",
    "load_profiles",
    "parse_personas",
    "parse_profiles",
    "sample_profiles",
]
