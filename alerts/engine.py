"""The run loop: build windows from the post index, run the rules, apply noise control, save alerts in the OpsDB,
notify."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts.dedup import Decision, decide, is_silenced
from alerts.eventmerge import merge_split_events
from alerts.loader import load_rules, rules_path
from alerts.rules import Rule
from alerts.snapshot import HotReplay, build_window
from alerts.window import Match
from yuqing.config import Settings
from yuqing.index import PostIndex
from yuqing.ops import OpsDB
from yuqing.records import Alert, AuditEntry, CrawlRun, Rejected, utc
from yuqing.vocab import ACTIVE_ALERT_STATUSES, severity_rank

log = logging.getLogger(__name__)
ACTIVE = ACTIVE_ALERT_STATUSES
EVENT_MEMORY = timedelta(days=7)  # how far back an event's alert is looked up
BACKTEST_RUNS = 1_000_000  # crawl runs a backtest replays source health from (a year of four sources every 2 min)
BACKTEST_HOT = 100_000  # hot-list tracks a backtest replays (a year of watched entries on four boards)


@dataclass
class RunReport:
    """What one evaluation did: every decision, and the rules that failed (also recorded as rejected)."""

    now: datetime
    decisions: list[Decision] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    events_merged: int = 0  # split events merged before the rules ran (alerts.eventmerge)

    @property
    def fired(self) -> list[Decision]:
        return [d for d in self.decisions if d.action in ("new", "raise", "reopen")]


def pick_existing(own: Alert | None, of_event: Alert | None) -> Alert | None:
    """One alert per event: the match's own (rule, key) alert while active, else the event's active alert
    (whichever rule saw it first), else whichever of the two is on file (a resolved one may reopen)."""
    if own is not None and own.status in ACTIVE:
        return own
    if of_event is not None and of_event.status in ACTIVE:
        return of_event
    return own or of_event


def takes_over(rule: Rule, match: Match, existing: Alert | None, rules: dict[str, Rule]) -> bool:
    """Whether a match folded into another rule's alert of the same event names it from now on: its rule pins down
    more scope dimensions (a city outage beats an operator spike beats an all-operator spike), or as many at a
    higher severity. An alert of a rule no longer configured is always taken over."""
    if existing is None or (existing.rule, existing.key) == (match.rule, match.key):
        return False
    owner = rules.get(existing.rule)
    mine, theirs = rule.specificity(match.key), owner.specificity(existing.key) if owner else -1
    return mine > theirs or (mine == theirs and severity_rank(match.severity) > severity_rank(existing.severity))


def configured_rules(settings: Settings) -> list[Rule]:
    return load_rules(rules_path(settings.alerts.rules))


def realert_for(rule: Rule, settings: Settings) -> timedelta:
    minutes = rule.realert_minutes if rule.realert_minutes is not None else settings.alerts.realert_minutes
    return timedelta(minutes=minutes)


def evaluate_rules(index: PostIndex, ops: OpsDB | None, rules: list[Rule], now: datetime, report: RunReport, *,
                   runs: Sequence[CrawlRun] | None = None,
                   hot: HotReplay | None = None) -> list[tuple[Rule, Match]]:
    """Every match of every rule at `now`; a failing rule is logged and counted, the others still run.
    `runs` (crawl runs, oldest first) and `hot` (the hot-list history) replay source health and the hot lists as
    they were at `now` (backtests)."""
    out = []
    for rule in rules:
        try:
            out += [(rule, m) for m in rule.evaluate(build_window(index, ops, rule, now, runs=runs, hot=hot))]
        except Exception as exc:  # one broken rule must not silence the rest
            log.exception("alert rule %s failed", rule.name)
            report.errors[rule.name] = f"{type(exc).__name__}: {exc}"
    return out


def evaluate(index: PostIndex, ops: OpsDB, settings: Settings, now: datetime, *,
             rules: list[Rule] | None = None) -> RunReport:
    """Run the rules at `now` and save what they decide; nothing is sent (see run_once)."""
    now = utc(now)
    rules = configured_rules(settings) if rules is None else rules
    report = RunReport(now=now)
    report.events_merged = merge_split_events(index, ops, now)
    matches = evaluate_rules(index, ops, rules, now, report)
    silences = ops.active_silences(now)
    recent = ops.list_alerts(since=now - EVENT_MEMORY, limit=2000)
    by_event = {a.event_id: a for a in reversed(recent) if a.event_id}
    by_name = {r.name: r for r in rules}
    for rule, match in matches:
        existing = pick_existing(ops.find_alert(match.rule, match.key), by_event.get(match.event_id or "\0"))
        silence = is_silenced(match, silences, now)
        decision = decide(match, existing, now, realert_for(rule, settings), silenced=silence is not None,
                          takes_over=takes_over(rule, match, existing, by_name))
        if decision.action != "suppressed":
            saved = ops.save_alert(decision.alert)
            decision = Decision(decision.action, saved, match, decision.notify, decision.silenced, decision.why)
            if saved.event_id:
                by_event[saved.event_id] = saved
            if decision.action in ("new", "reopen", "raise"):
                ops.add_audit(AuditEntry(at=now, actor="system", action=f"alert_{decision.action}",
                                           target=f"alert:{saved.alert_id}", detail=f"{saved.severity} {saved.title}"))
        report.decisions.append(decision)
    if report.errors:
        ops.record_rejected([Rejected(source="alerts", stage="rule", reason=f"{name}: {err}"[:500], at=now)
                               for name, err in report.errors.items()])
    return report


def run_once(index: PostIndex, ops: OpsDB, settings: Settings, now: datetime, *,
             rules: list[Rule] | None = None) -> list[Alert]:
    """Evaluate now, save alerts, and queue emails for the new, raised and reopened ones (plus due digests)."""
    from alerts.email import schedule_digests

    report = evaluate(index, ops, settings, now, rules=rules)
    notify_fired(index, ops, settings, report, now)
    schedule_digests(index, ops, settings, now)
    return [a for _, a, _ in per_alert(report.decisions)]


def notify_fired(index: PostIndex, ops: OpsDB, settings: Settings, report: RunReport, now: datetime) -> int:
    """Queue one email per alert that fired in this evaluation (see per_alert); the number queued."""
    from alerts.email import notify

    chosen = [(action, alert) for action, alert, mail in per_alert(report.decisions) if mail]
    return notify(index, ops, settings, [a for _, a in chosen], now, {a.alert_id or 0: action for action, a in chosen})


def per_alert(decisions: list[Decision]) -> list[tuple[str, Alert, bool]]:
    """Several decisions of one evaluation about the same alert as one: (action, final alert, notify). The action
    is new if any decision opened it, else reopen, else raise; the alert is its last saved state (final severity)."""
    acts: dict[int, list[Decision]] = {}
    for d in decisions:
        if d.action != "suppressed":
            acts.setdefault(d.alert.alert_id or 0, []).append(d)
    out = []
    for ds in acts.values():
        fired = [d for d in ds if d.action in ("new", "reopen", "raise")]
        if fired:
            action = next(a for a in ("new", "reopen", "raise") if any(d.action == a for d in fired))
            out.append((action, ds[-1].alert, any(d.notify for d in fired)))
    return out


@dataclass(frozen=True)
class BacktestHit:
    at: datetime
    action: str
    alert: Alert


def backtest(index: PostIndex, ops: OpsDB, settings: Settings, start: datetime, end: datetime, step: timedelta, *,
             rules: list[Rule] | None = None) -> list[BacktestHit]:
    """What would have fired on stored data between start and end, evaluating every `step`; writes nothing.
    Flatline sees source health as the stored crawl runs say it was at each step, hot_list the hot lists as the
    stored polls say they were."""
    start, end = utc(start), utc(end)
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    rules = configured_rules(settings) if rules is None else rules
    state: dict[tuple[str, str], Alert] = {}
    by_event: dict[str, Alert] = {}
    hits: list[BacktestHit] = []
    needs = set().union(*(r.needs for r in rules)) if rules else set()
    runs = list(reversed(ops.list_crawl_runs(limit=BACKTEST_RUNS))) if needs & {"sources", "hot"} else []
    hot = HotReplay(ops.list_hot_tracks(with_ranks=True, limit=BACKTEST_HOT), runs) if "hot" in needs else None
    by_name = {r.name: r for r in rules}
    t = start
    while t <= end:
        report = RunReport(now=t)
        for rule, match in evaluate_rules(index, None, rules, t, report, runs=runs, hot=hot):
            existing = pick_existing(state.get((match.rule, match.key)), by_event.get(match.event_id or "\0"))
            decision = decide(match, existing, t, realert_for(rule, settings),
                              takes_over=takes_over(rule, match, existing, by_name))
            if decision.alert.alert_id is None:  # numbered in memory so decisions about one alert can be merged
                decision = replace(decision, alert=replace(decision.alert, alert_id=len(state) + len(hits) + 1))
            report.decisions.append(decision)
            if decision.action != "suppressed":
                if existing is not None and (existing.rule, existing.key) != (decision.alert.rule, decision.alert.key):
                    state.pop((existing.rule, existing.key), None)  # taken over: the alert goes by its new rule
                state[(decision.alert.rule, decision.alert.key)] = decision.alert
                if decision.alert.event_id:
                    by_event[decision.alert.event_id] = decision.alert
        hits += [BacktestHit(t, action, alert) for action, alert, _ in per_alert(report.decisions)]
        if report.errors:
            raise RuntimeError("; ".join(f"{k}: {v}" for k, v in report.errors.items()))
        t += step
    return hits
