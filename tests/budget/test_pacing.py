"""The budget's arithmetic (clients.rate_budget.pacing), with explicit times: no clock, no storage."""
from clients.rate_budget import pacing
from clients.rate_budget.pacing import Policy, State

PER_MINUTE_600 = Policy(configured=600, limit=None, window=60.0, headroom=0.0)  # one slot every 0.1 s


def take_all(policy, times, max_wait=1000.0, state=None):
    state = state or State()
    slots = []
    for now in times:
        slot, new = pacing.take(state, now, policy, max_wait)
        slots.append(slot)
        if new is not None:
            state = new
    return slots, state


def test_slots_are_one_interval_apart_however_many_ask_at_once():
    slots, state = take_all(PER_MINUTE_600, [1000.0] * 10)
    assert [round(s.wait, 6) for s in slots] == [round(0.1 * i, 6) for i in range(10)]
    assert all(s.granted for s in slots)
    assert abs(state.next_free - 1001.0) < 1e-9


def test_an_idle_budget_lets_the_next_call_go_at_once():
    slots, _ = take_all(PER_MINUTE_600, [1000.0, 1005.0])
    assert [s.wait for s in slots] == [0.0, 0.0]


def test_any_window_holds_at_most_the_limit_whatever_the_arrival_pattern():
    # 600 a minute against bursts: 50 callers at once, then a trickle, then another burst.
    times = [0.0] * 50 + [t * 0.01 for t in range(1, 2000)] + [30.0] * 300
    policy = Policy(configured=600, limit=None, window=60.0, headroom=0.02)  # the default headroom
    slots, _ = take_all(policy, times)
    sent = sorted(now + s.wait for now, s in zip(times, slots, strict=True) if s.granted)
    first = 0
    for last, t in enumerate(sent):
        while sent[first] <= t - 60.0:
            first += 1
        assert last - first + 1 <= 600


def test_a_slot_further_than_the_caller_may_wait_is_refused_and_costs_nobody_anything():
    _, state = take_all(PER_MINUTE_600, [0.0] * 20)  # next free slot at 2.0 s
    slot, new = pacing.take(state, 0.0, PER_MINUTE_600, max_wait=1.0)
    assert not slot.granted and new is None and abs(slot.wait - 2.0) < 1e-9
    assert "pacing 600 requests a minute" in slot.reason


def test_headroom_keeps_a_share_of_the_limit_free():
    policy = Policy(configured=600, limit=None, window=60.0, headroom=0.02)
    assert abs(policy.interval(State(), 0) - 0.1 / 0.98) < 1e-12


def test_platform_default_then_its_live_header_then_the_clients_own_setting():
    picqer = Policy(configured=None, limit=500, window=60.0, headroom=0.0)
    assert picqer.rate(State(), 0) == (500 / 60, "platform default")
    learned = State(learned_limit=300, learned_at=0.0)
    assert picqer.rate(learned, 10) == (5.0, "platform header")  # the platform lowered it
    assert picqer.rate(State(learned_limit=900, learned_at=0.0), 10) == (15.0, "platform header")
    mine = Policy(configured=120, limit=500, window=60.0, headroom=0.0)
    assert mine.rate(State(learned_limit=900, learned_at=0.0), 10) == (2.0, "HTTP Client setting")
    assert mine.rate(learned, 10) == (2.0, "HTTP Client setting")
    assert mine.rate(State(learned_limit=60, learned_at=0.0), 10) == (1.0, "platform header")  # lower wins
    # Pipedrive: 20 per 2-second window documented; its header gives the plan's figure per window.
    pipedrive = Policy(configured=None, limit=20, window=2.0, headroom=0.0)
    assert pipedrive.rate(State(learned_limit=80, learned_at=0.0), 1)[0] == 40.0
    # A header not seen for a day is no longer trusted.
    assert picqer.rate(learned, pacing.LEARNED_FOR + 1) == (500 / 60, "platform default")


def test_no_documented_limit_means_no_pace_but_pauses_still_hold_everyone():
    none = Policy(configured=None, limit=None, window=60.0, headroom=0.02)
    slots, state = take_all(none, [0.0] * 100)
    assert all(s.wait == 0.0 for s in slots)
    paused = pacing.pause(state, 0.0, 20.0, "paused after Timely answered HTTP 429")
    slot, _ = pacing.take(paused, 5.0, none, max_wait=120)
    assert slot.granted and slot.wait == 15.0 and "HTTP 429" in slot.reason
    slot, new = pacing.take(paused, 5.0, none, max_wait=10)
    assert not slot.granted and new is None


def test_a_pause_only_ever_extends():
    state = pacing.pause(State(), 100.0, 30.0, "a")
    assert state.paused_until == 130.0
    assert pacing.pause(state, 100.0, 10.0, "b") is None
    assert pacing.pause(state, 100.0, 40.0, "c").paused_until == 140.0


def test_learning_writes_only_what_changed():
    state = pacing.learn(State(), 0.0, 600)
    assert state.learned_limit == 600
    assert pacing.learn(state, 1.0, 600) is None
    assert pacing.learn(state, 1.0, 550).learned_limit == 550
    assert pacing.learn(state, 1.0, 0) is None


def test_usage_counts_this_minute_and_the_one_before():
    slots, state = take_all(PER_MINUTE_600, [60.0 * 10 + 1] * 5)
    assert pacing.usage(state, 60.0 * 10 + 30) == (5, 0)
    slots, state = take_all(PER_MINUTE_600, [60.0 * 11 + 1] * 3, state=state)
    assert pacing.usage(state, 60.0 * 11 + 30) == (3, 5)
    assert pacing.usage(state, 60.0 * 12 + 1) == (0, 3)
    assert pacing.usage(state, 60.0 * 20) == (0, 0)


def test_state_reads_a_redis_hash_of_bytes():
    state = State.from_mapping({b"next_free": b"12.5", b"learned_limit": b"", b"used": b"3", b"pause_reason": b"x"})
    assert (state.next_free, state.learned_limit, state.used, state.pause_reason) == (12.5, None, 3, "x")
