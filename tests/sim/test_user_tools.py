"""A simulated user with tools of their own: the default user acts on their phone when the
agent asks, the loop records those calls as the user's, and the agent never sees them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import simulacra
from simulacra.llm import Message, ScriptedModel
from simulacra.people import Persona
from simulacra.rundir import Episode
from simulacra.runs import parse_config, read_episodes
from simulacra.sim.users import LLMUser, ToolActs, give_tools
from simulacra.tasks import Fact, Task
from simulacra.tasks.envs import Environment, tool
from targets_for_tests import TELECOM_DATA, echo_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tau2-telecom.yaml"
SIM_TASK = "service_issue.airplane_mode_on.unseat_sim_card.PERSONA:None"
PLAIN = Persona(name="plain", background="x", typo_rate=0.0, patience=5, cooperativeness=1.0)


class Lamp(Environment):
    """A toolbox with no idea of plain requests: only calls written out are understood."""

    name = "lamp"
    tables = ("lamp",)

    @tool(writes=True)
    def switch(self, to: str) -> str:
        """Switch the lamp.

        Args:
            to: 'on' or 'off'.
        """
        self.state["lamp"]["state"] = {"on": to == "on"}
        return f"The lamp is {to}."


def test_a_toolbox_without_a_reader_of_requests_takes_written_calls() -> None:
    lamp = Lamp({"lamp": {}})
    acts = ToolActs(lamp)
    assert acts.act("Could you switch the lamp on?") is None
    used = acts.act('Please run switch(to="on") and tell me.')
    assert used is not None and used.text == "Done: The lamp is on." and not used.resolved
    assert lamp.state["lamp"]["state"] == {"on": True}
    call, result = acts.take()
    assert call.role == "user" and call.tool_calls[0].name == "switch"
    assert result.role == "tool" and result.tool_call_id == call.tool_calls[0].id
    assert acts.take() == []
    assert lamp.calls[0].arguments == {"to": "on"}


async def test_the_default_user_acts_then_says_what_it_saw() -> None:
    lamp = Lamp({"lamp": {}})
    task = Task.model_validate(
        {
            "id": "lamp",
            "goal": "My lamp is off.",
            "facts": [Fact(text="It is the desk lamp.").model_dump()],
            "check": {"type": "environment"},
            "environment": "lamp",
        }
    )
    user = LLMUser(persona=PLAIN, task=task, model=ScriptedModel(echo_plan), seed=1)
    assert give_tools(user, lamp) and not give_tools(object(), lamp)
    first = await user.next_turn([])
    assert first.act == "open" and first.tool_messages == []
    asked = [Message(role="user", content=first.text)]
    asked.append(Message(role="assistant", content='Please call switch(to="on").'))
    turn = await user.next_turn(asked)
    assert turn.act == "use_tool" and "The lamp is on" in turn.text
    assert [m.role for m in turn.tool_messages] == ["user", "tool"]
    again = await user.next_turn([*asked, Message(role="assistant", content="Which lamp?")])
    assert again.act == "reveal" and again.tool_messages == []
    # a request seen before is not done again when the newest reply holds no text
    quiet = [*asked, Message(role="tool", content="ok", tool_call_id="c1", name="x")]
    repeat = await user.next_turn(quiet)
    assert repeat.act != "use_tool" and len(lamp.calls) == 1


@pytest.mark.skipif(not TELECOM_DATA.is_dir(), reason="telecom train data not found")
async def test_the_telecom_example_runs_with_scripted_models(tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert data["tasks"]["tau2_telecom"].endswith("tau2-telecom-train")
    data["models"] = {
        "user": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
        "agent": {"backend": "scripted", "function": "targets_for_tests:telecom_agent"},
    }
    data["tasks"] = {"tau2_telecom": str(TELECOM_DATA), "ids": [SIM_TASK]}
    data.update(output_dir=str(tmp_path), repeats=1)
    result = await simulacra.arun(parse_config(data))
    (record,) = read_episodes(result.run_dir)
    episode = Episode.from_dict(record)
    assert episode.status == "ok", episode.error
    assert episode.success and episode.stop_reason == "satisfied", episode.check
    assert [c.name for c in episode.user_tool_calls()] == [
        "check_status_bar",
        "toggle_airplane_mode",
        "check_sim_status",
        "reseat_sim_card",
    ]
    assert episode.extra["user_tool_calls"] == 4 and episode.extra["tool_calls"] == 1
    seen = episode.seen_by_target()
    assert not any(m.by_user_tools for m in seen) and len(seen) < len(episode.messages)
    said = [m.content for m in seen if m.role == "user"]
    reports = [t for t in said if "Airplane Mode" in t or "No SIM card detected" in t]
    assert len(reports) == 3, said  # what the phone showed, in the user's words
    criteria = episode.check["extracted"]["criteria"]
    assert criteria["reward_basis"] == ["ENV_ASSERTION"] and criteria["ENV_ASSERTION"]["passed"]


@pytest.mark.slow
@pytest.mark.timeout(1800)  # three generations; minutes each when the machine is busy
@pytest.mark.skipif(not TELECOM_DATA.is_dir(), reason="telecom train data not found")
def test_the_embedded_model_voices_a_user_who_checks_their_phone(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    """One tiny episode: the real model is the user (three turns: the problem, the phone
    number, what the status bar shows), a scripted agent asks for a look at the phone."""
    from simulacra.llm._weights import default_weights

    weights = default_weights(directory=model_cache_dir / "models")
    config = parse_config(
        {
            "name": "phone",
            "seed": 5,
            "output_dir": str(tmp_path),
            "models": {
                "local": {"backend": "local", "path": str(weights), "n_ctx": 2048},
                "agent": {"backend": "scripted", "function": "targets_for_tests:telecom_agent"},
            },
            "user": {"model": "local", "max_tokens": 40, "max_regenerations": 0},
            "target": {"model": "agent", "system_prompt": "You are a telecom agent."},
            "personas": {"builtin": ["polite-professional"]},
            "tasks": {"tau2_telecom": str(TELECOM_DATA), "ids": [SIM_TASK]},
            "max_turns": 3,
        }
    )
    (record,) = read_episodes(simulacra.run(config).run_dir)
    episode = Episode.from_dict(record)
    assert episode.status == "ok", episode.error
    assert [c.name for c in episode.user_tool_calls()] == ["check_status_bar"]
    spoken = [m.content for m in episode.seen_by_target() if m.role == "user"]
    assert len(spoken) == 3 and all(text.strip() for text in spoken)
    assert episode.usage["user"].completion_tokens > 0
    assert episode.success is False  # nothing was fixed in three turns
