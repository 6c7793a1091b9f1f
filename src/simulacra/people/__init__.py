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

__all__ = [
    "Beta",
    "BigFive",
    "Choice",
    "Normal",
    "Persona",
    "Population",
    "Uniform",
    "WritingStyle",
    "builtin_personas",
    "load_personas",
    "parse_personas",
]
