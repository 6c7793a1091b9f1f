"""The default simulated user: a dialogue policy in code, voiced by a language model.

Each turn, code decides *what* the user does from the persona's traits and the state of
the conversation: open with the goal, reveal one hidden fact (when asked, or unprompted),
answer the assistant's question, deflect it, correct a premature answer, react to a draft
(approve it, ask for a specific edit, say what is wrong with it), ask a follow-up, push
for an answer, accept, give up. The model only says it in the persona's voice, seeing the
assistant's last reply so that it can refer to it. Guards check every candidate turn;
styling in code then applies the persona's length, casing, punctuation, shorthand and typo
rates. Keeping the policy in code is what makes even a 0.5B model a usable user, and makes
patience, cooperativeness and frustration measurable rather than hoped for.

For an environment task the user may instead hold the task's full instruction (as the
public tool-use benchmarks give their simulated users): ``instruction: full``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from simulacra.errors import ModelError
from simulacra.llm import ChatModel, ChatParams, Message
from simulacra.people import Persona
from simulacra.registry import Options
from simulacra.sim.users._base import (
    GAVE_UP,
    SATISFIED,
    Simulator,
    UserContext,
    UserTurn,
    simulators,
)
from simulacra.sim.users._guards import (
    STOPWORDS,
    check_turn,
    clean_turn,
    draw_turn,
    similar,
)
from simulacra.sim.users._modes import SingleTurnUser, opening_text, sharded_view
from simulacra.sim.users._style import apply_style, cut_at_sentence, length_target
from simulacra.sim.users._tools import ToolActs, UserToolbox
from simulacra.tasks import Fact, JudgedCheck, Task

_PUSH = [
    "So what's the answer?",
    "Can you just give me the number?",
    "I still don't have an answer.",
    "Okay, so what do I need?",
    "What's the bottom line?",
    "So how much is it in the end?",
    "Just tell me what I asked, please.",
    "And the result is?",
]
# the same of a service that has said neither yes nor no ("I'm sorry, I can't assist")
_PUSH_SERVICE = [
    "So, can I get that?",
    "So is that a yes?",
    "Can I have that then?",
    "Can that be done?",
]
_ACCEPT = [
    "Thanks, that's what I needed.",
    "Great, thank you.",
    "Perfect, thanks.",
    "Got it, thanks!",
    "Okay, that makes sense.",
    "Brilliant, cheers.",
    "That's all I needed.",
    "Thank you!",
    "Cool, thanks.",
    "Lovely, thank you.",
    "Awesome, that's it.",
    "Sounds good, thanks.",
    "Ok great, cheers.",
    "Nice one, thanks!",
]
# ending a booking or an order the assistant has done (a statement, not "Anything else?"):
# real users say they are done: 2% (MultiWOZ) and 15% (Taskmaster) of such last turns are
# a bare "ok thanks" (docs/trust.md, section 5)
_DONE = [
    "Thank you, that's all I need.",
    "Great, that's everything. Thanks!",
    "Perfect, that's all for today. Thank you.",
    "Thanks, I think that's everything.",
    "Lovely, that's all I needed. Cheers.",
    "Thanks so much, that's it for me.",
    "Great, thanks a lot.",
    "Brilliant, that's everything I needed.",
]
# the assistant reading an order or booking back ("Is that correct?"): it is confirmed
_RIGHT = [
    "Yes, that's right.",
    "Yes.",
    "That's correct.",
    "Yes, it is.",
    "Looks good.",
    "Yep, that's it.",
]
_APPROVE = [
    "That works, thanks.",
    "Looks good to me.",
    "Perfect, that's what I wanted.",
    "Great, that does it.",
    "Yes, that's it. Thanks!",
    "Nice, it works now.",
]
_GIVE_UP = [
    "This isn't helping, I'll do it myself.",
    "Forget it, I'll figure it out another way.",
    "Never mind, I'll try elsewhere.",
    "I give up, thanks anyway.",
    "Let's leave it, I'll ask someone else.",
]
_DEFLECT = [
    "I don't know, can you just work it out?",
    "Does that matter? Just tell me roughly.",
    "Not sure, does it make a difference?",
    "No idea. Can you do it without that?",
]
# the same, asked for a detail of a booking or an order: a customer with no view on it asks
# what there is (a customer never says "just tell me roughly" of a table time)
_DEFLECT_SERVICE = [
    "Not sure, what is there?",
    "I'm not sure, what's good?",
    "No idea, what do people usually get?",
    "I haven't decided. What's usual?",
]
_YES = ["Yes, please.", "Yes.", "Yeah, go ahead.", "Yes, that's right.", "Ok, sounds good."]
_NOTHING_MORE = [
    "I don't know any more than that.",
    "That's all I know.",
    "I'm not sure, I've told you what I have.",
]
_FOLLOW_UP = [
    "How did you get that?",
    "Is that exact or rounded?",
    "Are you sure about that?",
    "Can you show me how you worked it out?",
]
# after a service is done (a booking, an order): what people ask next
# (enough of them that a run's conversations do not share one: people ask different things)
_FOLLOW_UP_SERVICE = [
    "Anything I should know before I go?",
    "Do I need to do anything else?",
    "Will it take long?",
    "What's the total?",
    "What's the price?",
    "Do I pay now or later?",
    "Will I get a confirmation?",
    "Can I change it later if I need to?",
    "Do I get a reference number?",
    "Will I get a receipt?",
]
# openers of a turn that adds a missed fact, or asks to change a draft: each is used at
# most once an episode, and only now and then, so that no opener dominates a run
_CORRECT = [
    "Wait, that's not everything.",
    "Hold on, you're missing something.",
    "That's not quite it.",
    "Oh, I forgot to say:",
    "Sorry, I should have mentioned:",
    "Actually,",
    "One more thing:",
    "But",
]
# openers of a turn that adds a detail to a service request (a booking, an order)
_ADD = ["Oh, and", "Also,", "One more thing:", "Oh, I forgot:", "And"]
# closing a service when the assistant asks whether there is anything else
_CLOSE = [
    "No, that's all. Thanks!",
    "That's everything, thank you.",
    "No thanks, that's it.",
    "Nope, that's all I needed.",
    "No, I'm all set. Thank you.",
]
# answering a service's question the user has no view on ("Which area?")
# the same when asked "Will that be all?"
_THATS_ALL = [
    "Yes, that's all. Thanks!",
    "Yes, that's everything, thank you.",
    "That's it, thanks.",
    "Yep, that's all for today.",
]
_NO_PREFERENCE = [
    "I don't mind.",
    "It doesn't matter.",
    "No preference.",
    "Doesn't matter to me.",
    "I don't care.",
    "Any of them is fine.",
]
_EDIT = ["Can you change it:", "Almost.", "Close, but", "Could you fix one thing?", "Nearly."]
_WRONG = [
    "That doesn't work.",
    "It's not right yet.",
    "I tried it and it fails.",
    "Still wrong.",
]
# turning to the next request once one is done ("Thanks. I also need a taxi.")
_SWITCH = ["Great, thanks.", "Perfect, thank you.", "Thanks.", "OK, great.", "Lovely, thanks."]
# letting a request go when the assistant cannot do it
_DROP = [
    "Never mind then.",
    "Oh well, forget that then.",
    "OK, let's skip that.",
    "Fine, I'll do that myself.",
]
_DROPPED_ALL = ["That's all then, thanks.", "OK, that'll do then. Thanks.", "Alright, bye then."]
_ANNOYED = ["Ugh.", "Come on.", "Seriously?", "Again?", "Look,", "Honestly,"]
_REPEATED = ["We've been through that.", "That's the same as before.", "Same answer again?"]
_AGAIN = ["Like I said,", "As I said,", "Again:"]
"""Said before a request given again to an assistant that asked for it once already."""
CANNED_OPENERS: tuple[str, ...] = tuple(
    dict.fromkeys(
        _CORRECT
        + _ADD
        + _EDIT
        + _WRONG
        + _ANNOYED
        + _REPEATED
        + _AGAIN
        + _SWITCH
        + _DROP
        + _DROPPED_ALL
        + _PUSH
        + _PUSH_SERVICE
        + _DEFLECT
        + _DEFLECT_SERVICE
        + _FOLLOW_UP
        + _FOLLOW_UP_SERVICE
        + _NO_PREFERENCE
        + _YES
        + _RIGHT
        + _THATS_ALL
    )
)
"""Every stock phrase the policy may open a turn with (a run's share of each is measured)."""
ANNOYED_FROM = 0.7
"""The frustration from which a turn may open annoyed ("Ugh.", "Come on."): real users
show frustration in 0.4% (MultiWOZ) and 0% (Taskmaster coffee) of their replies, and at
0.5 the default user showed it in 1.2-1.3% on both (docs/trust.md, section 6)."""
PREFIX_RATE = 0.3
"""How often a turn that adds a missed fact or asks for an edit opens with a stock phrase."""
_ASKS_CHANGE = frozenset(
    {"correct", "add", "edit", "object", "push", "follow_up", "switch", "drop"}
)
_STOCK_ACTS = frozenset({"answer", "confirm", "approve", SATISFIED})
"""Acts whose plan any agreeing words will do ("Yes, please.", "Perfect, thanks."): no
off-plan check. A give-up or a push must still say what it means."""
_UNVOICED_ACTS = frozenset(
    {"answer", "confirm", "restate", "approve", SATISFIED, GAVE_UP, "push", "deflect", "follow_up"}
)
"""Acts said in the policy's own words, styled to the persona, with no model call: a small
model voicing "Thanks, that's what I needed." writes "I'm glad you found the information
helpful", and these short turns are where people sound most alike anyway. A request said
again is the user's own words again (voiced, "You already said that." came out without
the request)."""
_YES_NO_QUESTION = re.compile(
    r"^\W*(?:so |ok(?:ay)?,? |and )?(?:do|does|did|is|are|was|were|can|could|would|will|"
    r"shall|should|may|have|has|am)\b",
    re.I,
)
_ASKS_FOR_INFORMATION = re.compile(
    r"\b(?:what|which|how|when|where|who|whose|why)\b|\b(?:tell|give|share|provide|send|"
    r"specify|clarify|describe|explain|let me know)\b",
    re.I,
)
# the assistant saying it cannot do what was asked (and offering nothing instead)
_CANNOT = re.compile(
    r"\b(?:unfortunately|fully booked|no availability|(?:isn't|aren't|is not|are not|not) "
    r"available|(?:can't|cannot|can not|couldn't|could not|unable to|am not able to|"
    r"won't be able to) (?:find|book|arrange|reserve|get|make|order|do that|help|assist))\b",
    re.I,
)
_CHECKS_BACK = re.compile(
    r"\b(?:is|does|was) (?:that|this|it|everything|all (?:of )?that|the order|your order) "
    r"(?:all )?(?:correct|right|ok(?:ay)?|good|look (?:right|good|ok(?:ay)?|correct))\b"
    r"|\b(?:confirm|check) (?:that|if|whether|your|the)\b|\bdid i get (?:that|it|everything) right\b",
    re.I,
)
"""The assistant asking the user to check what it read back ("Is that correct?", "Does
everything look right?", "Can you confirm your order?")."""
_QUESTION_SENTENCE = re.compile(r"[^.!?\n]*\?")
_IS_THAT_ALL = re.compile(
    r"\b(?:is|was|will) (?:that|this|it) (?:be )?(?:all|everything|it)\b(?! (?:correct|right))",
    re.I,
)
"""The assistant asking whether that is all ("Will that be all for today?"): a yes."""
_ANYTHING_ELSE = re.compile(
    r"\b(?:anything|something) else\b|\belse (?:i|we) can\b|\bany other (?:questions?|way)\b",
    re.I,
)


_ASKS_WHAT_WANTED = re.compile(
    r"\bwhat (?:(?:kind|type|sort) of \w+ |specific \w+ |else )?(?:would|do|can|could|will) "
    r"you (?:like|want|need|wish|have in mind)\b"
    r"|\bwhat (?:(?:kind|type|sort) of \w+ )?are you (?:looking for|after|interested in)\b"
    r"|\bwhat can i (?:get|do|help|find|book) (?:you|for you)\b|\bwhat can i help you with\b"
    r"|\bhow (?:can|may|could) i (?:help|assist)\b"
    r"|\bwhat(?:'s| is) your (?:order|request)\b"
    r"|\bprovide (?:me with )?(?:your|the) (?:order|request)\b",
    re.I,
)
"""The assistant asking what the user wants ("What would you like to drink?", "How can I
assist you today?", "What kind of coffee are you looking for?"), not one detail of it
("What size would you like?"): a person says their request again."""


def asks_what_wanted(question: str) -> bool:
    """Whether the assistant's question asks what the user wants, as a whole."""
    return bool(_ASKS_WHAT_WANTED.search(question))


# with the guards' stopwords, the short words a question and a fact share by chance
_SHORT_FUNCTION_WORDS = frozenset(
    {"the", "and", "you", "for", "are", "can", "how", "any", "was", "has", "had", "its"}
    | {"our", "out", "who", "why", "not", "but", "all", "get", "got", "one", "did", "like"}
)


def _topic_words(text: str) -> set[str]:
    words = set(re.findall(r"[a-z]{3,}", text.lower()))
    return words - _SHORT_FUNCTION_WORDS - STOPWORDS


_NEGATION = frozenset({"no", "not", "without", "non", "nothing"})
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'%-]*")


def asked_about(question: str, request: str) -> str | None:
    """The words of the user's ``request`` that the assistant's ``question`` asks about,
    with the words qualifying them: "oat milk" of "Can I get a latte with oat milk?" for
    "Do you prefer oat milk or another milk?", "no whipped cream" of "A mocha, but no
    whipped cream." for "Whipped cream on top?". None when they share no content word."""
    shared = _topic_words(question) & _topic_words(request)
    if not shared:
        return None
    words = _WORD.findall(request)
    hits = [i for i, w in enumerate(words) if w.lower() in shared]
    if not hits:
        return None
    start, end = hits[0], hits[-1] + 1
    if end - start > 6:
        return " ".join(words[i] for i in hits)
    while start > 0 and end - start < 4:
        before = words[start - 1].lower()
        if before in _NEGATION or (
            before not in _SHORT_FUNCTION_WORDS and before not in STOPWORDS and len(before) > 2
        ):
            start -= 1
            if before in _NEGATION:
                break
        else:
            break
    return " ".join(words[start:end])


def confirmation(span: str, *, yes_no: bool, rng: random.Random) -> str:
    """A short answer that restates what the user asked for: "Oat milk, please.", "Yes,
    double espresso.", "No whipped cream, please."; a plain yes to a yes/no question about
    one word of it."""
    negated = span.split()[0].lower() in _NEGATION
    if yes_no and not negated and len(span.split()) < 2:
        return rng.choice(_YES)  # "Shall I book the table?": "Yes, please.", not "Yes, table."
    if yes_no and not negated:
        text = rng.choice([f"Yes, {span}.", f"Yes, {span}, please.", f"Yeah, {span}."])
    else:
        text = rng.choice([f"{span}, please.", f"{span}.", f"Just {span}."])
        if negated and text.startswith("Just"):
            text = f"{span}, please."
    return text[0].upper() + text[1:]


def _after(opener: str, text: str) -> str:
    """``text`` after a stock opener: "Oh, and a table for 4", not "Oh, and A table for 4"
    (after an opener that ends a sentence, "Hold on.", the text keeps its capital)."""
    if not opener or not text or opener.rstrip()[-1:] in ".!?:":
        return opener + text
    if re.match(r"I\b", text) or (len(text) > 1 and text[1].isupper()):
        return opener + text  # "I" and names stay as they are
    return opener + text[0].lower() + text[1:]


def is_yes_no(question: str) -> bool:
    """A question answered with yes or no ("Shall I work it out in grams?"), not a request
    for information ("Could you tell me how many it serves?")."""
    return bool(_YES_NO_QUESTION.match(question)) and not _ASKS_FOR_INFORMATION.search(question)


# worked examples of the voice prompt, and the words of theirs that must not turn up in a
# real turn (a soft-boiled egg in a bill split)
_SHOT_MARKERS = re.compile(
    r"\b(?:eggs?|yolks?|boil(?:ed|ing)?|pasta|packet|neighbou?rs?|barbecue|formal|stiff|"
    r"bikes?|bicycles?|punctures?)\b",
    re.I,
)
_CASUAL_SHOTS = [
    (
        "",
        "I want to know how long to boil an egg so the yolk stays soft.",
        10,
        "how long do i boil an egg for a soft yolk?",
    ),
    (
        "How many people do you want to cook the pasta for?",
        "The pasta packet says 500 g serves 5 people.",
        8,
        "packet says 500g is for 5 people",
    ),
    (
        "Here is a note for your neighbours: 'Dear neighbours, we are having a barbecue on "
        "Saturday. Kind regards.'",
        "Ask for an edit: it should sound less formal.",
        7,
        "can u make it less formal? sounds stiff",
    ),
]
_FORMAL_SHOTS = [
    (
        "",
        "I want to know how long to boil an egg so the yolk stays soft.",
        14,
        "How long should I boil an egg if I want the yolk to stay soft?",
    ),
    (
        "How many people do you want to cook the pasta for?",
        "The pasta packet says 500 g serves 5 people.",
        12,
        "According to the packet, 500 g of pasta serves 5 people.",
    ),
    (
        "Here is a note for your neighbours: 'Dear neighbours, we are having a barbecue on "
        "Saturday. Kind regards.'",
        "Ask for an edit: it should sound less formal.",
        12,
        "Thank you. Could you make it sound a little less formal, please?",
    ),
]
# a service user's third example answers an offer (a draft's edit request leaked into
# bookings as "can you make it more concise?")
_SERVICE_SHOT_SAID = "I can fix the puncture on Thursday at 10. Shall I book that?"
_SERVICE_SHOT_PLAN = "Yes, please. Will the bike be ready by Friday?"
_CASUAL_SERVICE_SHOTS = [
    *_CASUAL_SHOTS[:2],
    (_SERVICE_SHOT_SAID, _SERVICE_SHOT_PLAN, 8, "yes pls, will the bike be ready by fri?"),
]
_FORMAL_SERVICE_SHOTS = [
    *_FORMAL_SHOTS[:2],
    (
        _SERVICE_SHOT_SAID,
        _SERVICE_SHOT_PLAN,
        10,
        "Yes, please. Would the bike be ready by Friday?",
    ),
]
FULL_INSTRUCTION_ENVIRONMENTS = frozenset({"tau-retail", "tau2-telecom"})
"""Environments whose tasks' users hold the full instruction by default."""
CONTEXT_WORDS = 60
"""How much of the assistant's last reply the voice sees (words, cut at a sentence end)."""


@dataclass(frozen=True, kw_only=True)
class LLMUserOptions:
    max_regenerations: int = 2
    temperature: float = 0.8
    max_tokens: int = 96
    repeat_threshold: float = 0.85
    instruction: Literal["facts", "full"] = "facts"
    """``full``: the user holds the task's whole instruction (environment tasks)."""


@dataclass(kw_only=True)
class Plan:
    """What the user does this turn: the act, what they mean to say (also the plain
    statement said when every voiced candidate fails its guards), the fact it reveals."""

    act: str
    text: str
    fact: Fact | None = None
    reply: bool = False
    """The voice answers the assistant from the instruction rather than rephrasing ``text``."""
    stop: bool = False
    also: Fact | None = None
    """A second detail said along with this one (a service user who says a lot at once)."""


@dataclass
class _Budget:
    """Model calls for the next turn: fewer while the model keeps drifting into the
    assistant's role (another sample of the same prompt seldom helps then)."""

    drift_streak: int = 0
    calls: list[int] = field(default_factory=list)


def question_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that ask something."""
    return [q.strip() for q in _QUESTION_SENTENCE.findall(text) if len(q.split()) >= 2]


class LLMUser:
    """The default simulated user. See the module docstring."""

    def __init__(
        self,
        *,
        persona: Persona,
        task: Task,
        model: ChatModel,
        seed: int,
        options: LLMUserOptions | None = None,
    ) -> None:
        self.persona = persona
        self.task = task
        self.model = model
        self.options = options or LLMUserOptions()
        self.rng = random.Random(seed)
        self.seed = seed
        self.revealed: set[int] = set()
        self.dropped: set[int] = set()
        """Facts of requests the user let go (the assistant could not do them)."""
        self.request: int | None = None
        """The request the user is on (a fact's index), or None: the task's own goal."""
        self.owner: list[int | None] = []
        """For each fact, the request it belongs to (itself, for a request), or None: a
        detail of the task's own goal."""
        for i, f in enumerate(task.facts):
            self.owner.append(i if f.request else (self.owner[-1] if self.owner else None))
        self.first_details = [
            f.text for f, o in zip(task.facts, self.owner, strict=True) if o is None
        ]
        """The details of the task's own goal: an opening may carry them, not only them."""
        self.restated: set[int | None] = set()
        """The requests the user has had to say again (None: the task's own goal)."""
        self.unhelpful = 0
        self.frustration = 0.0
        self.deflected = False
        self.followed_up = False
        self.objections = 0
        self.my_turns: list[str] = []
        self.acts: list[str] = []
        self.used_prefixes: set[str] = set()
        self.turn_index = 0
        self.budget = _Budget()
        self.tool_acts: ToolActs | None = None
        self.service = task.metadata.get("kind") == "service"
        """A booking or an order (``metadata.kind: service``): see docs/tasks.md."""
        instruction = task.metadata.get("instruction") if task.metadata else None
        self.instruction = (
            str(instruction)
            if self.options.instruction == "full" and isinstance(instruction, str)
            else None
        )

    def give_tools(self, tools: UserToolbox) -> None:
        """Let this user act with tools of their own (see ``simulacra.sim.users._tools``)."""
        self.tool_acts = ToolActs(tools)

    # -- policy ---------------------------------------------------------------------------

    def _unrevealed(self) -> list[int]:
        """Facts not said yet (and not let go)."""
        return [
            i
            for i in range(len(self.task.facts))
            if i not in self.revealed and i not in self.dropped
        ]

    def _open(self) -> list[int]:
        """The facts the user would say now: the unsaid details of the goal and of the
        requests made so far; the next request only once none of those is left."""
        unsaid = self._unrevealed()
        now = [
            i
            for i in unsaid
            if not self.task.facts[i].request
            and (self.owner[i] is None or self.owner[i] in self.revealed)
        ]
        return now or [i for i in unsaid if self.task.facts[i].request][:1]

    def _drop(self, prefix: str) -> Plan:
        """Let the current request go, and turn to the next one or end the conversation."""
        self.dropped.update(i for i in self._unrevealed() if self.owner[i] == self.request)
        self.request = None
        drop = self.rng.choice(_DROP)
        nxt = self._open()
        if nxt:
            fact = self.task.facts[nxt[0]]
            return Plan(act="drop", text=_after(prefix, f"{drop} {fact.text}"), fact=fact)
        text = f"{drop} {self.rng.choice(_DROPPED_ALL)}"
        return Plan(act="drop", text=_after(prefix, text), stop=True)

    def _next(self, act: str, opener: str) -> Plan:
        """Say the next fact the user has: a detail as ``act`` after ``opener``, or, when
        it is a request, turn to it after thanks now and then ("Thanks. I also need …")."""
        fact = self.task.facts[self._open()[0]]
        if fact.request:
            thanks = opener or self._prefix(_SWITCH, rate=0.6)
            return Plan(act="switch", text=_after(thanks, fact.text), fact=fact)
        return Plan(act=act, text=_after(opener, fact.text), fact=fact)

    def _relevance(self, question: str, index: int) -> int:
        """Content words the question and the fact share ("the" and "you" are not a match)."""
        return len(_topic_words(question) & _topic_words(self.task.facts[index].text))

    def _most_relevant(self, question: str) -> int:
        """The unrevealed fact sharing most words with the assistant's question."""
        candidates = self._open()
        best = max(candidates, key=lambda i: (self._relevance(question, i), -i))
        return best if self._relevance(question, best) > 0 else candidates[0]

    def _request_text(self) -> str:
        """What the user is asking for now: the task's goal, or the further request."""
        return self.task.goal if self.request is None else self.task.facts[self.request].text

    def _confirm(self, question: str, prefix: str) -> Plan | None:
        """Asked about what they already asked for ("Oat milk or regular?" of a latte with
        oat milk), a person says it again; they do not deflect or say "no preference"."""
        span = asked_about(question, self._request_text())
        if span is None:
            return None
        either = bool(re.search(r"\bor\b", question, re.I))  # "hot or iced?": no plain yes
        yes_no = is_yes_no(question) and not either
        choice = yes_no or either or bool(re.search(r"\bprefer", question, re.I))
        if not choice and set(span.lower().split()) <= _topic_words(question):
            return None  # "What is the repair about?": asks for more than the request says
        text = confirmation(span, yes_no=yes_no, rng=self.rng)
        return Plan(act="confirm", text=_after(prefix, text), reply=True)

    def _restate(self, prefix: str) -> Plan:
        """Asked what they want, as if the assistant had lost it: the request again, with
        the details already given and the next one (said once, so it is revealed)."""
        owner = self.request
        request = self._request_text()
        given = [
            self.task.facts[i].text
            for i in sorted(self.revealed)
            if self.owner[i] == owner and i != owner
        ]
        if owner in self.restated:
            # asked for this request a second time: the assistant is not listening
            self.unhelpful += 1
            self._frustrate(0.2)
            prefix = prefix or self._prefix(_AGAIN, rate=1.0)
        self.restated.add(owner)
        nxt = [i for i in self._open() if self.owner[i] == owner and i != owner]
        fact = self.task.facts[nxt[0]] if nxt else None
        parts = [request, *given, *([fact.text] if fact else [])]
        return Plan(act="restate", text=_after(prefix, " ".join(parts)), fact=fact)

    def _fresh(self, pool: list[str]) -> str:
        """A phrase of ``pool`` the user has not said yet this conversation, if any is left
        (people asked twice do not answer "Up to you." twice)."""
        said = {t.strip().lower() for t in self.my_turns}
        unsaid = [p for p in pool if p.lower() not in said]
        return self.rng.choice(unsaid or pool)

    def _frustrate(self, amount: float) -> None:
        scale = 0.6 + 0.8 * self.persona.big_five.neuroticism
        self.frustration = min(1.0, self.frustration + amount * scale)

    def _said(self) -> str:
        """Everything the user has said or knows they said: their own words and figures."""
        revealed = [self.task.facts[i].text for i in sorted(self.revealed)]
        return " ".join([self.task.goal, *revealed, *self.my_turns])

    def _own(self) -> str:
        """What the user has said or holds (their instruction too): the assistant may
        quote it back without that being an echo."""
        return " ".join([self._said(), self.instruction or ""])

    def _prefix(self, pool: list[str], rate: float = PREFIX_RATE) -> str:
        """A stock opener from ``pool`` (each at most once an episode), or none."""
        fresh = [p for p in pool if p not in self.used_prefixes]
        if not fresh or self.rng.random() >= rate:
            return ""
        choice = self.rng.choice(fresh)
        self.used_prefixes.add(choice)
        return choice + " "

    def _is_draft(self, reply: str) -> bool:
        """A reply to react to as a piece of work (code, a text) rather than a figure."""
        kind = getattr(self.task.check, "type", "")
        if isinstance(self.task.check, JudgedCheck) and self.task.check.scope == "answer":
            return True  # a letter, a summary, an edit: work to have redone
        return kind in ("unit_tests", "python", "regex") or "```" in reply

    def _follow_ups(self) -> list[str]:
        """What a curious user asks once answered: how the answer was reached, or, for a
        service (``metadata.kind: service``: a booking, an order), what comes next."""
        return _FOLLOW_UP_SERVICE if self.service else _FOLLOW_UP

    async def _react_to_draft(self, reply: str, prefix: str) -> Plan:
        if isinstance(self.task.check, JudgedCheck):
            # the user has nothing to test the work with: made with everything they asked
            # for, it is accepted (how good it is, is the judge's to say)
            return Plan(act="approve", text=self.rng.choice(_APPROVE), stop=True)
        result = await self.task.aevaluate(reply)
        if result.passed:
            return Plan(act="approve", text=self.rng.choice(_APPROVE), stop=True)
        self.objections += 1
        self._frustrate(0.15)
        if self.objections > self.persona.patience:
            return Plan(act=GAVE_UP, text=self.rng.choice(_GIVE_UP), stop=True)
        detail = " ".join(result.detail.split()[:14]) if result.detail else ""
        wrong = self.rng.choice(_WRONG)
        text = f"{wrong} {detail}".strip() if detail and "assert" not in detail else wrong
        return Plan(act="object", text=_after(prefix, text))

    async def plan_turn(self, transcript: list[Message]) -> Plan:
        """Decide this turn's act from the conversation so far."""
        replies = [m.content for m in transcript if m.role == "assistant" and m.content.strip()]
        if not self.my_turns:
            return Plan(act="open", text=self.task.goal)
        last = replies[-1] if replies else ""
        # asked to do something on their own device (in the newest message): do it, report
        newest = bool(transcript) and transcript[-1].role == "assistant" and bool(last)
        used = self.tool_acts.act(last) if self.tool_acts is not None and newest else None
        if used is not None:
            if used.resolved:
                return Plan(
                    act=SATISFIED, text=f"{used.text} {self.rng.choice(_APPROVE)}", stop=True
                )
            return Plan(act="use_tool", text=used.text)
        previous = replies[-2] if len(replies) > 1 else None
        unrevealed = self._open()
        questions = question_sentences(last)
        answered = bool(last) and self.task.gives_answer(last, said=self._said())
        if self.service:
            # a booking or an order: a reply that asks nothing has done (or offered) it
            # ("I'm sorry, but I can't assist with that." has not)
            answered = answered or (
                bool(last.strip()) and not questions and not _CANNOT.search(last)
            )
        # a reply changed after the user asked for a change is a revision, not a repeat
        revised = (
            previous is not None
            and bool(self.acts)
            and self.acts[-1] in _ASKS_CHANGE
            and " ".join(last.split()) != " ".join(previous.split())
        )
        was_repeat = (
            previous is not None
            and not revised
            and similar(last, previous, self.options.repeat_threshold)
        )
        prefix = ""
        if not last.strip() or was_repeat:
            self.unhelpful += 1
            self._frustrate(0.35)
            prefix = self._prefix(_REPEATED, rate=0.5) if was_repeat else ""
        elif not answered and not questions and not self.task.environment:
            # (an agent acting on an environment may reply without an answer or question)
            self.unhelpful += 1
            self._frustrate(0.2)
        if self.request is not None and (
            self.unhelpful > self.persona.patience or (_CANNOT.search(last) and not questions)
        ):
            # a further request the assistant cannot or will not do: let it go, keep the rest
            self.unhelpful = 0
            return self._drop(prefix)
        if self.unhelpful > self.persona.patience:
            return Plan(act=GAVE_UP, text=self.rng.choice(_GIVE_UP), stop=True)
        if self.frustration >= ANNOYED_FROM and not prefix:
            prefix = self._prefix(_ANNOYED, rate=0.5 * self.frustration)
        that_all = bool(questions) and bool(_IS_THAT_ALL.search(questions[-1]))
        if questions and (that_all or _ANYTHING_ELSE.search(questions[-1])):
            # "Is there anything else I can help with?": the next thing, or goodbye
            if unrevealed:
                return self._next(
                    "reveal", prefix or self._prefix(_ADD if self.service else _CORRECT)
                )
            closing = _THATS_ALL if that_all else _CLOSE
            return Plan(act=SATISFIED, text=self.rng.choice(closing), stop=True)
        if answered and unrevealed and (self.service or self.task.facts[unrevealed[0]].request):
            # done or offered: on to the next detail, in the order one has it, or the next
            # request (an answer to a further request is no mistake to correct)
            return self._next("add", prefix or self._prefix(_ADD))
        if answered and unrevealed:
            # an answer before the assistant had all the facts: correct it with the next
            # one (for a draft: ask for the edit that fact calls for)
            self._frustrate(0.1)
            index = self._most_relevant(last)
            draft = self._is_draft(last)
            opener = prefix or self._prefix(_EDIT if draft else _CORRECT)
            fact = self.task.facts[index]
            return Plan(
                act="edit" if draft else "correct", text=_after(opener, fact.text), fact=fact
            )
        if answered and self._is_draft(last):
            return await self._react_to_draft(last, prefix)
        if answered:
            curiosity = 0.1 + 0.3 * self.persona.big_five.openness
            if not self.followed_up and self.rng.random() < curiosity:
                self.followed_up = True
                return Plan(
                    act="follow_up", text=_after(prefix, self.rng.choice(self._follow_ups()))
                )
            done = _DONE if self.service else _ACCEPT
            return Plan(act=SATISFIED, text=self.rng.choice(done), stop=True)
        if questions and unrevealed:
            index = self._most_relevant(last)
            relevant = self._relevance(last, index) > 0
            confirmed = None if relevant else self._confirm(questions[-1], prefix)
            if confirmed is not None:
                return confirmed
            if not relevant and asks_what_wanted(questions[-1]):
                return self._restate(prefix)
            if is_yes_no(questions[-1]) and not relevant:
                return Plan(act="answer", text=_after(prefix, self.rng.choice(_YES)), reply=True)
            if not self.deflected and self.rng.random() > self.persona.cooperativeness:
                self.deflected = True
                pool = _DEFLECT_SERVICE if self.service else _DEFLECT
                return Plan(act="deflect", text=_after(prefix, self.rng.choice(pool)))
            self.deflected = False
            if self.service and not relevant:
                # asked something they have no view on: say so, and go on with their list
                return self._next("reveal", _after(prefix, self._fresh(_NO_PREFERENCE)) + " ")
            fact = self.task.facts[index]
            act = "switch" if fact.request else "reveal"
            return Plan(act=act, text=_after(prefix, fact.text), fact=fact)
        if questions:
            # nothing left to reveal: answer from what the user knows (a customer asked
            # "What size?" with nothing more in mind has no preference)
            confirmed = self._confirm(questions[-1], prefix)
            if confirmed is not None:
                return confirmed
            if asks_what_wanted(questions[-1]):
                return self._restate(prefix)
            if self.service and _CHECKS_BACK.search(questions[-1]):
                return Plan(act="answer", text=_after(prefix, self._fresh(_RIGHT)), reply=True)
            unknown = _NO_PREFERENCE if self.service else _NOTHING_MORE
            plain = self._fresh(_YES if is_yes_no(questions[-1]) else unknown)
            return Plan(act="answer", text=_after(prefix, plain), reply=True)
        if unrevealed:
            return self._next("reveal", prefix)
        push = _PUSH_SERVICE if self.service else _PUSH
        return Plan(act="push", text=_after(prefix, self._fresh(push)))

    # -- voice ----------------------------------------------------------------------------

    def _system(self) -> str:
        p = self.persona
        manner = p.style.description or ("formal" if p.style.formality > 0.6 else "casual")
        system = (
            f"You are {p.label}: {p.background} Your style: {manner}. "
            "You are chatting with an AI assistant. You are the user, never the assistant: "
            "you do not solve the problem, write out steps, apologise or refuse. Each time you "
            "see what the assistant said and are told what to say, write it the way you would "
            "type it, in your own words, replying to the assistant. Keep every number. Write "
            "only your message."
        )
        if self.instruction:
            system += (
                f"\nYour situation (reveal it bit by bit, only what is asked): {self.instruction}"
            )
        return system

    @staticmethod
    def _context(said: str) -> str:
        if not said.strip():
            return ""
        return f'The assistant said: "{cut_at_sentence(" ".join(said.split()), CONTEXT_WORDS)}"\n'

    def _prompt(self, plan: Plan, words: int, last: str) -> list[Message]:
        formal = self.persona.style.formality > 0.6
        if self.service:
            shots = _FORMAL_SERVICE_SHOTS if formal else _CASUAL_SERVICE_SHOTS
        else:
            shots = _FORMAL_SHOTS if formal else _CASUAL_SHOTS
        messages = [Message(role="system", content=self._system())]
        for shot_said, shot_plan, shot_words, shot_out in shots:
            content = f"{self._context(shot_said)}Say ({shot_words} words): {shot_plan}"
            messages.append(Message(role="user", content=content))
            messages.append(Message(role="assistant", content=shot_out))
        if plan.reply and self.instruction:
            ask = (
                f"Answer ({words} words) as your situation says; if it says nothing about "
                f"this, say: {plan.text}"
            )
        else:
            ask = f"Say ({words} words): {plan.text}"
        messages.append(Message(role="user", content=self._context(last) + ask))
        return messages

    def _budget(self) -> int:
        """Regenerations allowed this turn."""
        return 0 if self.budget.drift_streak else self.options.max_regenerations

    def _bundle(self, plan: Plan) -> Plan:
        """A service user gives the next detail along with this one, as often as their
        verbosity says ("A table for 4 at 19:30. And I'll need the reference number.");
        people booking or ordering seldom say one thing a turn."""
        if not self.service or plan.act not in ("open", "add", "reveal"):
            return plan
        rest = [i for i in self._open() if self.task.facts[i] is not plan.fact]
        if not rest or self.rng.random() >= self.persona.verbosity:
            return plan
        plan.also = self.task.facts[rest[0]]
        plan.text = f"{plan.text} {plan.also.text}"
        return plan

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        plan = self._bundle(await self.plan_turn(transcript))
        self.acts.append(plan.act)
        turn = self.turn_index
        self.turn_index += 1
        fact = plan.fact
        if fact is not None:
            self.revealed.add(self.task.facts.index(fact))
            if fact.request:
                self.request = self.task.facts.index(fact)
        if plan.also is not None:
            self.revealed.add(self.task.facts.index(plan.also))
        words = length_target(self.persona, self.rng, frustration=self.frustration)
        if fact is not None or plan.also is not None:
            # the fact's own words set a floor: a reveal must be able to carry it
            words = max(words, len(plan.text.split()) // 2)
        if self.tool_acts is not None and self.tool_acts.pending:
            words = max(words, len(plan.text.split()))  # what the phone showed, all of it
        replies = [m.content for m in transcript if m.role == "assistant" and m.content.strip()]
        last = replies[-1] if replies else ""
        hidden = [self.task.facts[i] for i in self._unrevealed()]
        context = " ".join([self.task.goal, last, self.instruction or ""])
        own = self._own()
        must_say = [plan.also] if plan.also is not None else []
        unvoiced = (plan.act in _UNVOICED_ACTS or (plan.act == "drop" and fact is None)) and not (
            plan.reply and self.instruction
        )
        attempts = 0 if unvoiced else self._budget() + 1
        prompt = self._prompt(plan, words, last) if attempts else []

        def check(text: str) -> tuple[str, tuple[str, str] | None]:
            whole = clean_turn(text)
            problem: tuple[str, str] | None = None
            for candidate in dict.fromkeys([cut_at_sentence(whole, words), whole]):
                problem = check_turn(
                    candidate,
                    planned=plan.text,
                    fact=fact,
                    hidden=hidden,
                    previous=self.my_turns,
                    context=context,
                    examples=_SHOT_MARKERS,
                    on_plan=plan.act not in _STOCK_ACTS,
                    reply=last,
                    own=own,
                    must_say=must_say,
                    opening=plan.act == "open",
                    goal=self.task.goal,
                    details=self.first_details,
                )
                if problem is None:
                    return candidate, None
            return whole, problem

        drawn = await draw_turn(
            self.model,
            prompt,
            lambda attempt: ChatParams(
                temperature=self.options.temperature,
                max_tokens=self.options.max_tokens,
                seed=self.seed + 7919 * turn + attempt,
            ),
            check,
            attempts=attempts,
            turn=turn,
        )
        if not unvoiced:
            self.budget.drift_streak = self.budget.drift_streak + 1 if drawn.drifted else 0
        self.budget.calls.append(drawn.calls)
        text = drawn.said or plan.text
        text = apply_style(
            text, self.persona, self.rng, frustration=self.frustration, opening=plan.act == "open"
        )
        self.my_turns.append(text)
        return UserTurn(
            text=text,
            stop=plan.stop,
            stop_reason=plan.act
            if plan.act in (SATISFIED, GAVE_UP)
            else (SATISFIED if plan.stop else None),
            act=plan.act,
            guard_events=drawn.events,
            usage=drawn.usage,
            tool_messages=self.tool_acts.take() if self.tool_acts is not None else [],
            meta={
                "act": plan.act,
                "fact": fact.text if fact else None,
                "also": plan.also.text if plan.also else None,
                "length_target": words,
                "frustration": round(self.frustration, 3),
                "unhelpful": self.unhelpful,
                "user_calls": drawn.calls,
            },
        )


class LLMSimulatorOptions(Options):
    """``user.options`` of the ``llm`` simulator."""

    repeat_threshold: float = Field(
        default=0.85,
        ge=0,
        le=1,
        description="how similar two assistant replies must be to count as a repeat",
    )
    instruction: Literal["auto", "facts", "full"] = Field(
        default="auto",
        description="what the user of an environment task holds: 'facts' (the opening "
        "request and the details revealed one by one) or 'full' (also the task's whole "
        "instruction, as the public tool-use benchmarks give it); 'auto': full for "
        f"{', '.join(sorted(FULL_INSTRUCTION_ENVIRONMENTS))} tasks, facts otherwise",
    )


def instruction_mode(option: str, task: Task) -> Literal["facts", "full"]:
    """What ``instruction: option`` means for ``task``."""
    if option == "auto":
        return "full" if task.environment in FULL_INSTRUCTION_ENVIRONMENTS else "facts"
    return "full" if option == "full" else "facts"


def _llm_user(context: UserContext[LLMSimulatorOptions]) -> LLMUser | SingleTurnUser:
    if context.mode in ("full", "concat"):
        return SingleTurnUser(opening_text(context.task, context.mode))
    if context.model is None:
        raise ModelError("the 'llm' user simulator needs a model")
    return LLMUser(
        persona=context.persona,
        task=sharded_view(context.task),
        model=context.model,
        seed=context.seed,
        options=LLMUserOptions(
            max_regenerations=context.max_regenerations,
            temperature=context.temperature,
            max_tokens=context.max_tokens,
            repeat_threshold=context.options.repeat_threshold,
            instruction=instruction_mode(context.options.instruction, context.task),
        ),
    )


simulators.add("llm", Simulator(build=_llm_user), options=LLMSimulatorOptions)
