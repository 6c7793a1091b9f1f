"""raters.yaml: validation, and errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulacra.errors import ConfigError
from simulacra.feedback import RatersConfig, load_raters_config, parse_raters_config

GOOD = """
models:
  judge: {backend: scripted, replies: ["Verdict: A"]}
pool:
  - {id: plain, model: judge, temperature: 0.7, weight: 2}
  - {id: nurse, model: judge, template: persona, persona: busy-nurse}
  - {id: rule, fixed: longer}
noise: 0.2
both_orders: true
judges_per_item: 2
rubric: {model: judge, dimensions: [helpfulness, {warmth: how kind it feels}]}
critique: {model: judge}
implicit: {model: judge}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "raters.yaml"
    path.write_text(text)
    return path


def test_a_good_config_loads(tmp_path: Path) -> None:
    config = load_raters_config(write(tmp_path, GOOD))
    assert [s.id for s in config.pool] == ["plain", "nurse", "rule"]
    assert config.kinds() == ["pairwise", "rubric", "critique", "implicit"]
    assert config.pool_size() == 3 and config.noise == 0.2
    assert config.base_dir == str(tmp_path.resolve())
    persona = config.resolve_persona("busy-nurse", "x")
    assert persona["name"] == "busy-nurse"


def test_defaults_use_the_embedded_model() -> None:
    config = parse_raters_config(None)
    assert config.models["local"].backend == "local"
    assert [(s.id, s.kind, s.options.model, s.options.template) for s in config.pool] == [  # type: ignore[attr-defined]
        ("judge", "llm", "local", "default")
    ]
    assert config.kinds() == ["pairwise", "implicit"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "pool: [{id: a, model: judge, population: 3}]",
            r"pool\.0\.population: unknown option of rater kind 'llm'",
        ),
        ("pool: [{id: a, kind: crowd}]", r"pool\.0\.kind: unknown rater kind 'crowd'"),
        (
            "pool: [{id: a, model: judge, colour: red}]",
            r"pool\.0\.colour: unknown option of rater kind 'llm'",
        ),
        ("surprise: 1", r"surprise: unknown key"),
        (
            "pool: [{id: a, model: nope}]",
            r"pool\[0\]\.model: unknown model 'nope' \(known: local\)",
        ),
        (
            "pool: [{id: a, model: local, template: nope}]",
            r"pool\[0\]\.template: unknown rater template 'nope'",
        ),
        (
            "pool: [{id: a, model: local, template: rubric}]",
            r"pool\[0\]\.template: template 'rubric' is a rubric template",
        ),
        (
            "pool: [{id: a, model: local, template: persona}]",
            r"pool\[0\]\.persona: template 'persona' needs a persona",
        ),
        (
            "pool: [{id: a, model: local, persona: nobody}]",
            r"pool\[0\]\.persona: unknown persona 'nobody'",
        ),
        ("pool: [{id: a, model: local, fixed: A}]", r"give exactly one of model, learned or fixed"),
        (
            "pool: [{id: a, learned: missing.json}]",
            r"pool\[0\]\.learned: learned rater file .*missing.json not found",
        ),
        ("pool: [{id: a, fixed: A}, {id: a, fixed: B}]", r"pool: duplicate rater ids: a"),
        (
            "judges_per_item: 3\npool: [{id: a, fixed: A}, {id: b, fixed: B}]",
            r"judges_per_item: judges_per_item \(3\) is larger",
        ),
        ("noise: 0.9", r"noise: Input should be less than or equal to 0.5"),
        ("rubric: {model: nope}", r"rubric\.model: unknown model 'nope'"),
        ("rubric: {model: local, dimensions: [a, a]}", r"duplicate dimensions: a"),
        (
            "critique: {model: local, template: default}",
            r"critique\.template: template 'default' is a pairwise",
        ),
        ("implicit: {model: ghost}", r"implicit\.model: unknown model 'ghost'"),
        ("models: {j: {backend: openai}}", r"models\.j: the openai backend needs"),
        ("pool: [{id: 'has space', fixed: A}]", r"pool\.0\.id: String should match pattern"),
        ("- just\n- a list", r"expected a mapping of settings"),
        ("pool: [unclosed", r"line 1: invalid YAML"),
    ],
)
def test_errors_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_raters_config(path)
    assert str(caught.value).startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="raters file not found"):
        load_raters_config(tmp_path / "nope.yaml")


def test_fingerprint_ignores_concurrency_only() -> None:
    a = parse_raters_config({"concurrency": 1})
    b = parse_raters_config({"concurrency": 9})
    c = parse_raters_config({"noise": 0.1})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_the_example_in_the_docs_is_valid() -> None:
    import yaml

    docs = Path(__file__).resolve().parents[2] / "docs" / "feedback.md"
    text = docs.read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_raters_config(yaml.safe_load(block), source=str(docs))
    assert [s.id for s in config.pool] == ["careful", "quick", "nurse"]
    assert config.kinds() == ["pairwise", "rubric", "critique", "implicit"]


def test_a_fingerprint_saved_with_every_setting_on_every_entry_still_matches() -> None:
    # the previous form: each rater with every kind's settings, each model with every
    # backend's; the settings a kind or backend does not read are dropped
    config = parse_raters_config(
        {"pool": [{"id": "judge", "model": "local"}, {"id": "a", "fixed": "A", "weight": 2}]}
    )
    old = config.fingerprint()
    unused = {"learned": None, "population": 1, "spread": 1.0, "taste": 0.0}
    old["pool"][0] = {k: v for k, v in old["pool"][0].items() if k != "kind"} | unused
    old["pool"][0]["fixed"] = None
    old["pool"][1] = {"id": "a", "fixed": "A", "weight": 2.0, "model": None, "template": "default"}
    old["models"]["local"] |= {"base_url": None, "replies": None, "timeout_s": 60.0}
    assert old != config.fingerprint()
    assert RatersConfig.saved_fingerprint(old) == config.fingerprint()
    old["pool"][1]["fixed"] = "B"
    assert RatersConfig.saved_fingerprint(old) != config.fingerprint()
