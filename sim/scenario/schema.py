"""The parameter schema: every parameter of the model, with its unit, range, default and meaning.

One place only. Rules receive these typed groups and never hard-code numbers. Fields marked
``calibratable`` (with a ``prior`` range) are the free parameters of ``negsim calibrate``; the
others are set from sources (the article, the UN, the case data) or are scenario levers.

Units: days (d), hours (h), kilometres (km), persons, strikes per day, and "utility" for the
dimensionless values of the bargaining rule.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any, Literal, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


def param(
    default: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    unit: str,
    desc: str,
    prior: tuple[float, float] | None = None,
) -> Any:
    """A schema field with a unit, an allowed range and (if calibratable) a prior range."""
    extra: dict[str, Any] = {"unit": unit, "calibratable": prior is not None}
    if prior is not None:
        extra["prior"] = [float(prior[0]), float(prior[1])]
    return Field(default, ge=lo, le=hi, description=desc, json_schema_extra=extra)


def describe_field(info: Any) -> str:
    """What a field allows, in words: type, range, unit and meaning."""
    ann = info.annotation
    if get_origin(ann) is Literal:
        tname = "one of " + ", ".join(repr(a) for a in get_args(ann))
    else:
        tname = getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
    tname = {"float": "a number", "int": "a whole number", "bool": "true or false",
             "str": "a string", "date": "a date (YYYY-MM-DD)"}.get(tname, tname)
    lo = hi = None
    for meta in info.metadata:
        lo = getattr(meta, "ge", getattr(meta, "gt", lo))
        hi = getattr(meta, "le", getattr(meta, "lt", hi))
    rng = ""
    if lo is not None and hi is not None:
        rng = f" from {lo:g} to {hi:g}"
    elif lo is not None:
        rng = f" >= {lo:g}"
    elif hi is not None:
        rng = f" <= {hi:g}"
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = f" ({extra['unit']})" if extra.get("unit") not in (None, "flag", "choice", "path", "date") \
        else ""
    desc = f": {info.description}" if info.description else ""
    return f"allowed: {tname}{rng}{unit}{desc}"


class Group(BaseModel):
    """A group of parameters: unknown fields are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TimeParams(Group):
    start_date: dt.date = param(dt.date(2018, 6, 19), unit="date",
                                desc="Day 0 of the calendar: the offensive's launch (article line 5).")
    tick_hours: int = param(6, 1, 24, unit="h", desc="Tick length; must divide 24.")
    horizon_days: float = param(60.0, 1.0, 365.0, unit="d", desc="Simulated span from day 0.")

    @field_validator("tick_hours")
    @classmethod
    def _divides_day(cls, v: int) -> int:
        if 24 % v:
            raise ValueError(f"tick_hours must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24), got {v}")
        return v


class WorldParams(Group):
    towns_file: str = param("data/daraa2018/towns.csv", unit="path",
                            desc="Towns table, relative to the scenario file's folder.")
    subdistricts_file: str = param("data/daraa2018/subdistricts.csv", unit="path",
                                   desc="Sub-district areas table, relative to the scenario file.")
    zones_file: str = param("data/daraa2018/zones.csv", unit="path",
                            desc="Destination zones table, relative to the scenario file.")
    borders_file: str = param("data/daraa2018/borders.csv", unit="path",
                              desc="Border polylines named by zones of reach 'line', relative to "
                                   "the scenario file; empty: the case has none.")
    outcomes_file: str = param("data/daraa2018/outcomes.toml", unit="path",
                               desc="The case's declared outcomes, relative to the scenario file; "
                                    "empty: generic outcomes only.")
    population_scale: float = param(1.0, 0.001, 10.0, unit="ratio",
                                    desc="Multiplies every town's population (1 = the UN's 750,000).")
    household_size_mean: float = param(5.5, 1.0, 12.0, unit="persons",
                                       desc="Mean household size; households flee and return together.")
    neighbour_km: float = param(12.0, 1.0, 50.0, unit="km",
                                desc="Towns closer than this are neighbours (front, cascade, hosting).")
    pockets: bool = param(False, unit="flag",
                          desc="The area is an enclave the offensive splits into pockets: people "
                               "flee only to towns of their own pocket (sim/rules/pockets.py).")
    pocket_km: float = param(5.0, 0.1, 100.0, unit="km",
                             desc="Rebel-held towns this close, with no government-held town "
                                  "between them, belong to the same pocket.")


class Axis(Group):
    """An offensive axis of the plan: the regime's effort is focused near (lat, lon) from a day.

    Axes are inputs (the government's operational plan), each with its ``source``; see
    :mod:`sim.rules.offensive`."""

    name: str = Field(description="Label of the axis.")
    lat: float = Field(ge=-90, le=90, description="Latitude of the axis' focus (deg).")
    lon: float = Field(ge=-180, le=180, description="Longitude of the axis' focus (deg).")
    radius_km: float = Field(20.0, gt=0, le=200, description="Reach of the axis (km).")
    from_day: float = Field(0.0, ge=-30, le=365,
                            description="Day the axis opens (before 0: an escalation before the "
                                        "case's day 0, see sim/rules/prelude.py).")
    weight: float = Field(1.0, ge=0, le=10, description="Relative strength of the axis.")
    source: str = Field("", description="Where this part of the plan comes from (citation).")


class RegimeParams(Group):
    ground_capacity: float = param(1.6, 0.0, 10.0, unit="ratio", prior=(0.8, 3.0),
                                   desc="Offensive capacity relative to a town's defence (>1 advances).")
    k_capture: float = param(0.291, 0.0, 10.0, unit="1/d", prior=(0.02, 0.6),
                             desc="Capture hazard per unit of excess ground pressure.")
    assault_towns: float = param(1000.0, 1.0, 1000.0, unit="towns",
                                 desc="Towns the ground forces can assault at once (those "
                                      "under the highest pressure; 1000 = no limit). A capacity "
                                      "of a case.")
    front_km: float = param(10.0, 1.0, 50.0, unit="km",
                            desc="A rebel town within this distance of a regime-held one is on the front.")
    axes: list[Axis] = Field(default_factory=list,
                             description="The plan's dated offensive axes (a case's scenario "
                                         "gives them with sources); see continue_offensive.")
    continue_offensive: bool = param(True, unit="flag",
                                     desc="After the dated axes, the offensive moves on to the "
                                          "remaining rebel areas until all are taken or settled.")
    next_axis_days: float = param(2.0, 0.0, 60.0, unit="d",
                                  desc="Pause between clearing the open axes and opening the next.")
    auto_axis_radius_km: float = param(20.0, 1.0, 200.0, unit="km",
                                       desc="Reach of an axis the continuing offensive opens.")
    auto_axis_weight: float = param(1.5, 0.0, 10.0, unit="ratio",
                                    desc="Weight of an axis the continuing offensive opens "
                                         "(forces concentrated on the last pockets).")
    bombardment_capacity: float = param(30.0, 0.0, 1000.0, unit="strikes/d", prior=(8.0, 80.0),
                                        desc="Air strikes, barrel bombs and missiles per day, baseline.")
    bombardment_scale: float = param(1.0, 0.0, 10.0, unit="ratio",
                                     desc="Scenario lever: multiplies bombardment_capacity (2 = doubled).")
    surge_from_day: float | None = param(None, 0.0, 365.0, unit="d",
                                         desc="Day the air campaign intensifies (an input of the "
                                              "plan, with its source; none by default): from it "
                                              "the daily strike capacity is multiplied by "
                                              "surge_factor.")
    surge_until_day: float | None = param(None, 0.0, 365.0, unit="d",
                                          desc="Day the surge of the air campaign ends (an input "
                                               "of the plan; none: it goes on).")
    surge_factor: float = param(2.0, 1.0, 20.0, unit="ratio",
                                desc="Multiplier on the daily strike capacity from surge_from_day "
                                     "(until surge_until_day).")
    escalation_factor: float = param(5.64, 1.0, 30.0, unit="ratio", prior=(1.5, 15.0),
                                     desc="Multiplier on bombardment after talks collapse (the blitz).")
    talks_level: float = param(0.513, 0.0, 1.0, unit="ratio", prior=(0.05, 1.0),
                               desc="Bombardment level while comprehensive talks run (days of calm).")
    halt_level: float = param(0.02, 0.0, 1.0, unit="ratio",
                              desc="Bombardment level after rebels return to talks (strikes halted).")
    ultimatum_factor: float = param(4.97, 1.0, 20.0, unit="ratio", prior=(1.0, 10.0),
                                    desc="Bombardment multiplier on towns offered local terms "
                                         "that have not settled (the ultimatum's coercion).")
    priority_base: float = param(0.079, 0.0, 20.0, unit="weight", prior=(0.005, 0.5),
                                 desc="Strike priority of a rebel town far from every open axis.")
    priority_front: float = param(2.0, 0.0, 20.0, unit="weight",
                                  desc="Strike priority of towns on the front (times the axis weight).")
    priority_strategic: float = param(2.0, 0.0, 20.0, unit="weight",
                                      desc="Strike priority of strategic towns (times the axis weight).")
    priority_axis: float = param(4.0, 0.0, 50.0, unit="weight",
                                 desc="Strike priority of towns near an open offensive axis.")
    corridors_open: bool = param(False, unit="flag",
                                 desc="Corridors let civilians flee into regime-held areas.")
    pause_hours: float = param(0.0, 0.0, 24.0, unit="h/d",
                               desc="Daily humanitarian pause: hours a day without strikes (the "
                                    "daily strike capacity falls to (24 - pause)/24 of itself).")


class MediatorParams(Group):
    enabled: bool = param(True, unit="flag", desc="Russia mediates (local and comprehensive deals).")
    phases: int = param(1, 1, 10, unit="phases",
                        desc="Heavy weapons handed over in this many phases (1 = all at once).")
    safe_passage: bool = param(False, unit="flag",
                               desc="Safe passage to opposition territory elsewhere is offered.")
    guarantees: float = param(0.2, 0.0, 1.0, unit="ratio",
                              desc="Credibility of the mediator's guarantees (0 none, 1 full).")
    offers_from_day: float = param(9.39, 0.0, 365.0, unit="d", prior=(5.0, 12.0),
                                   desc="Day the mediator starts offering towns local terms.")
    offer_reach: float = param(0.05, 0.0, 10.0, unit="weight", prior=(0.01, 0.7),
                               desc="Weight of the open axes at which a town receives the terms.")
    offers_per_day: float = param(1000.0, 0.1, 1000.0, unit="towns/d",
                                  desc="Towns the mediator's officers can present terms to a day "
                                       "(those the offensive presses most first; a lever, 1000 = "
                                       "no limit).")
    open_share: float = param(0.402, 0.0, 1.0, unit="ratio", prior=(0.03, 0.8),
                              desc="Share of negotiable rebel towns settled when comprehensive talks open.")
    round_hours: float = param(12.0, 1.0, 240.0, unit="h", desc="Time between offers in talks.")
    deadline_days: float = param(3.25, 0.25, 60.0, unit="d", prior=(1.0, 10.0),
                                 desc="Ultimatum: talks collapse if no deal this long after opening.")
    concede_prob: float = param(0.6, 0.0, 1.0, unit="probability",
                                desc="Chance the mediator concedes one step after a collapse.")
    concession: Literal["safe_passage", "phases"] = param(
        "safe_passage", unit="choice", desc="What the mediator concedes after a collapse.")
    guarantee_step: float = param(0.3, 0.0, 1.0, unit="ratio",
                                  desc="Rise in guarantees with each concession (e.g. military police).")
    local_deals: bool = param(True, unit="flag", desc="Russia brokers town-by-town reconciliation.")
    local_talks_hours: float = param(18.0, 1.0, 240.0, unit="h",
                                     desc="A town committee's talks before its local deal is signed.")
    handover_days: float = param(2.0, 0.25, 30.0, unit="d",
                                 desc="Time to hand over towns and weapons after a comprehensive deal.")
    evacuation_share_hardline: float = param(0.06, 0.0, 1.0, unit="ratio",
                                             desc="Share of a hardline town's people bused out under safe passage.")
    evacuation_share: float = param(0.01, 0.0, 1.0, unit="ratio",
                                    desc="Share of other towns' people bused out under safe passage.")
    hardline_majority: float = param(0.5, 0.0, 1.0, unit="ratio",
                                     desc="Hardliner share from which a town counts as hardline "
                                          "(its evacuation share under safe passage).")
    bus_capacity_per_day: float = param(1e7, 0.0, 1e7, unit="persons/d",
                                        desc="Persons the buses carry out per day under safe "
                                             "passage (the default, 10 million, is no limit).")


class NegotiationParams(Group):
    """The bargaining rule (Fearon 1995; Powell 2006; Schelling 1966): see sim/rules/acceptance.py."""

    deal_base: float = param(1.0, -10.0, 10.0, unit="utility",
                             desc="Value of a negotiated surrender before its terms.")
    disarm_risk: float = param(17.0, 0.0, 20.0, unit="utility", prior=(2.0, 20.0),
                               desc="Cost of disarming before the other side keeps its promises.")
    weapons_risk: float = param(0.0, 0.0, 0.1, unit="1/piece",
                                desc="Rise of a faction's disarmament cost per heavy weapon it must "
                                     "hand over (0: the arsenal does not matter).")
    passage_value: float = param(1.5, 0.0, 20.0, unit="utility",
                                 desc="Value of safe passage (an outside option, mostly for hardliners).")
    hold_value: float = param(2.0, 0.0, 20.0, unit="utility",
                              desc="Value of holding ground, times the share still held and resolve.")
    hope0: float = param(1.0, 0.0, 10.0, unit="utility",
                         desc="Initial hope of outside help (last year's ceasefire guarantors).")
    hope_decay: float = param(0.1, 0.0, 5.0, unit="1/d", desc="Decay rate of that hope.")
    pain_per_strike: float = param(0.0345, 0.0, 1.0, unit="utility/strike", prior=(0.003, 0.1),
                                   desc="Pain a faction feels per strike on its towns.")
    pain_per_death: float = param(0.02, 0.0, 1.0, unit="utility/person",
                                  desc="Pain per civilian killed in its towns.")
    pain_per_displaced: float = param(0.01, 0.0, 10.0, unit="utility/1000 persons",
                                      desc="Pain per thousand of its civilians newly displaced.")
    pain_decay: float = param(0.3, 0.0, 5.0, unit="1/d", desc="Pain fades at this rate.")
    noise: float = param(0.5, 0.01, 10.0, unit="utility", desc="Logit noise of acceptance.")
    coalition_threshold: float = param(0.6, 0.0, 1.0, unit="ratio",
                                       desc="Strength-weighted share of factions needed to accept.")
    resume_threshold: float = param(2.84, 0.0, 50.0, unit="utility", prior=(0.3, 12.0),
                                    desc="Pain since a collapse that brings the joint command back.")


class FactionSpec(Group):
    """A rebel faction; towns name their faction in the towns table's `faction` column."""

    name: str = Field(description="Faction id, as in the towns table's `faction` column.")
    kind: Literal["moderate", "hardline", "refuses_talks"] = Field(
        description="moderate and hardline negotiate (in their bloc); refuses_talks never.")
    strength: float = Field(ge=0, le=1e6, description="Fighters (persons); weights the coalition vote.")
    heavy_weapons: int = Field(0, ge=0, le=100000, description="Tanks and artillery pieces (weigh in "
                               "the talks through negotiation.weapons_risk).")
    resolve: float = Field(1.0, ge=0, le=10, description="Multiplies the value of fighting on.")
    hardliner_share: float = Field(0.1, ge=0, le=1, description="Share of hardliners in its ranks.")
    defence: float = Field(1.0, gt=0, le=100, description="Defence of its towns against ground assault.")
    bloc: str = Field("", description="Negotiating bloc: factions of one bloc negotiate one "
                                      "comprehensive deal together; empty: the joint command "
                                      "(every faction that leaves it empty).")


def _default_factions() -> list[FactionSpec]:
    return [
        FactionSpec(name="joint_command", kind="moderate", strength=25000, heavy_weapons=200,
                    resolve=1.0, hardliner_share=0.1, defence=1.0),
        FactionSpec(name="hardline", kind="hardline", strength=2500, heavy_weapons=20,
                    resolve=1.5, hardliner_share=0.9, defence=1.3),
        FactionSpec(name="khalid", kind="refuses_talks", strength=1500, heavy_weapons=30,
                    resolve=3.0, hardliner_share=1.0, defence=1.6),
    ]


class ReconciliationParams(Group):
    """Town-by-town settlement as a threshold cascade (Granovetter 1978)."""

    w_front: float = param(1.5, 0.0, 20.0, unit="weight", prior=(0.3, 3.0),
                           desc="Pressure from a regime-held neighbour (the front).")
    w_strikes: float = param(0.15, 0.0, 10.0, unit="weight/(strike/d)", prior=(0.02, 0.5),
                             desc="Pressure per strike per day on the town.")
    w_neigh: float = param(1.5, 0.0, 20.0, unit="weight", prior=(0.5, 4.0),
                           desc="Pressure from the share of neighbours already settled.")
    w_deals: float = param(0.8, 0.0, 20.0, unit="weight",
                           desc="Pressure from the share of all towns settled (the bandwagon).")
    w_hard: float = param(1.5, 0.0, 20.0, unit="weight",
                          desc="Resistance from hardliners present in the town.")
    w_bloc: float = param(1.0, 0.0, 20.0, unit="weight", prior=(0.0, 3.0),
                          desc="Bloc discipline while comprehensive talks run (lowers local pressure).")
    theta_mean: float = param(0.739, -5.0, 20.0, unit="weight", prior=(-0.5, 3.0),
                              desc="Mean settlement threshold of a town committee.")
    theta_sd: float = param(0.4, 0.0, 10.0, unit="weight", desc="Spread of thresholds between towns.")
    rate: float = param(1.62, 0.0, 50.0, unit="1/d", prior=(0.2, 5.0),
                        desc="Settlement hazard per unit of pressure above threshold.")


class FlightParams(Group):
    """Flight of civilians from threat (Davenport et al. 2003) with logit destination choice (Flee)."""

    b0: float = param(0.000374, 0.0, 1.0, unit="1/d", prior=(0.0001, 0.003),
                      desc="Background flight hazard.")
    b_strike: float = param(0.0079, 0.0, 1.0, unit="1/d per strike/d", prior=(0.002, 0.05),
                            desc="Flight hazard per strike per day nearby (distance-weighted).")
    b_front: float = param(0.116, 0.0, 5.0, unit="1/d", prior=(0.01, 0.3),
                           desc="Flight hazard next to the front, decaying with distance.")
    front_scale_km: float = param(6.0, 0.1, 100.0, unit="km", desc="Decay length of front threat.")
    b_offer: float = param(0.526, 0.0, 5.0, unit="1/d", prior=(0.0, 0.8),
                           desc="Flight hazard in a town holding the mediator's ultimatum, until it settles.")
    kernel_km: float = param(1.85, 0.1, 100.0, unit="km", prior=(0.5, 8.0),
                             desc="Decay length of strike threat.")
    speed_km_per_day: float = param(20.0, 1.0, 200.0, unit="km/d", desc="Travel speed of households.")
    c_dist: float = param(0.037, 0.0, 5.0, unit="1/km", desc="Disutility of distance to a destination.")
    c_safe: float = param(0.357, 0.0, 20.0, unit="utility", prior=(0.0, 5.0),
                          desc="Utility of a destination's safety.")
    asc_border: float = param(1.49, -10.0, 10.0, unit="utility", prior=(-1.0, 5.0),
                              desc="Attraction of an international border (hope of crossing, aid).")
    asc_frontier: float = param(3.46, -10.0, 10.0, unit="utility", prior=(-1.0, 7.0),
                                desc="Attraction of a frontier (a ceasefire line: hope of aid).")
    asc_fields: float = param(-2.2, -10.0, 10.0, unit="utility",
                              desc="Attraction of fields and groves near home.")
    asc_town: float = param(-0.3, -10.0, 10.0, unit="utility",
                            desc="Attraction of a quieter rebel town nearby.")
    asc_government: float = param(0.101, -10.0, 10.0, unit="utility", prior=(-4.0, 2.0),
                                  desc="Attraction of government-held areas (only when corridors "
                                       "are open).")
    host_max_km: float = param(15.0, 0.0, 100.0, unit="km",
                               desc="Farthest quieter rebel town people flee to.")
    host_threat_km: float = param(2.0, 0.0, 100.0, unit="km per strike/d",
                                  desc="How many km of extra travel one strike/day of threat is worth.")
    host_room: float = param(1e6, 0.0, 1e6, unit="ratio",
                             desc="Displaced persons a town can take in, as a multiple of its own "
                                  "pre-offensive population (1: it can double; 1e6 = no limit); "
                                  "a town that full is no longer a host. A judgement of a case.")
    safety_scale: float = param(5.0, 0.01, 1000.0, unit="strikes/d",
                                desc="Threat at which a host town's safety falls to 1/e.")
    fields_km: float = param(3.0, 0.0, 50.0, unit="km", desc="Distance to the nearest fields.")
    cross_rate: float = param(0.5, 0.0, 24.0, unit="1/d",
                              desc="Crossing hazard for people at an open border.")


class ReturnParams(Group):
    rate: float = param(0.0427, 0.0, 24.0, unit="1/d", prior=(0.005, 0.5),
                        desc="Return hazard once home is settled and quiet.")
    quiet_days: float = param(2.0, 0.0, 60.0, unit="d",
                              desc="Days without strikes near home before people return.")
    quiet_radius_km: float = param(8.0, 0.0, 100.0, unit="km",
                                   desc="Strikes this close to home keep people away.")


class CasualtyParams(Group):
    lethality: float = param(0.308, 0.0, 20.0, unit="deaths/strike", prior=(0.05, 0.8),
                             desc="Civilian deaths per strike on a fully occupied town.")
    shelter_half: float = param(2000.0, 1.0, 1e6, unit="persons",
                                desc="People present at which a strike's lethality is half its full value.")
    exposure_rate: float = param(2e-6, 0.0, 1e-2, unit="deaths/person/d",
                                 desc="Death rate of people stuck at a border (heat, scorpions, no aid).")
    heat_factor: float = param(1.5, 0.0, 10.0, unit="ratio", desc="Multiplier for 45 degC heat.")
    aid_relief: float = param(0.8, 0.0, 1.0, unit="ratio",
                              desc="Share of exposure deaths cross-border aid prevents.")
    aid_through_hostilities: bool = param(False, unit="flag",
                                          desc="UN cross-border aid from Jordan continues during hostilities.")


class BorderParams(Group):
    open: list[str] = Field(default_factory=list,
                            description="Borders and frontiers (zone ids of the case's zones "
                                        "table) open from day 0; every other one is closed.")

    @field_validator("open")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


INTERVENTION_ACTIONS = ("ceasefire", "handover", "open_border")


class Intervention(Group):
    """A timed change: at ``day`` (or ``delay_hours`` after an ``after`` event).

    ``set`` maps dotted parameter paths ("borders.jordan_open") to values; with ``until_day``
    the change is undone then (a window, e.g. a ceasefire from day 12 to 14): the parameter
    returns to the value of the latest intervention still in force on it, else to the
    scenario's own value, so overlapping windows stack.
    ``action`` targets places named in the case data: ``ceasefire`` (no strikes or assaults on
    ``towns`` until ``until_day``), ``handover`` (``towns`` are handed over to the regime by a
    deal imposed on them), ``open_border`` (the border or frontier at ``zone`` opens, until
    ``until_day``; the same as setting ``borders.open.<zone>`` to true).
    """

    description: str = Field("", description="What the intervention represents.")
    day: float | None = Field(None, ge=0, le=365, description="Day it takes effect.")
    after: Literal["first_collapse", "first_resumption", "deal"] | None = Field(
        None, description="Or: an event that triggers it.")
    delay_hours: float = Field(0.0, ge=0, le=8760, description="Delay after the `after` event.")
    until_day: float | None = Field(None, ge=0, le=365, description="Day the change is undone.")
    set: dict[str, Any] = Field(default_factory=dict,
                                description="Dotted parameter paths and their new values.")
    action: Literal["ceasefire", "handover", "open_border"] | None = Field(
        None, description="A targeted action: ceasefire or handover of `towns`, open_border at `zone`.")
    towns: list[str] = Field(default_factory=list,
                             description="Town ids or names (towns table) the action targets.")
    zone: str | None = Field(None, description="Zone the action targets: a border or frontier of "
                                               "the case's zones table.")

    @model_validator(mode="after")
    def _one_trigger(self) -> Intervention:
        if (self.day is None) == (self.after is None):
            raise ValueError("give exactly one of `day` or `after`")
        if self.until_day is not None and self.day is not None and self.until_day <= self.day:
            raise ValueError("`until_day` must come after `day`")
        if not self.set and self.action is None:
            raise ValueError("give `set` (parameters to change) or an `action` "
                             f"({', '.join(INTERVENTION_ACTIONS)})")
        if self.action in ("ceasefire", "handover") and not self.towns:
            raise ValueError(f"action '{self.action}' needs `towns` (town ids or names)")
        if self.action == "open_border" and self.zone is None:
            raise ValueError("action 'open_border' needs `zone` (a border or frontier of the "
                             "case's zones table)")
        if self.towns and self.action not in ("ceasefire", "handover"):
            raise ValueError("`towns` needs action = 'ceasefire' or 'handover'")
        if self.zone is not None and self.action != "open_border":
            raise ValueError("`zone` needs action = 'open_border'")
        if self.action == "handover" and self.until_day is not None:
            raise ValueError("a handover cannot be undone: remove `until_day`")
        return self


class Scenario(Group):
    """A fully resolved scenario: what ``negsim scenario show`` prints."""

    name: str = Field("scenario", description="Short name (defaults to the file's stem).")
    description: str = Field("", description="One line saying what the scenario asks.")
    time: TimeParams = Field(default_factory=TimeParams)
    world: WorldParams = Field(default_factory=WorldParams)
    regime: RegimeParams = Field(default_factory=RegimeParams)
    mediator: MediatorParams = Field(default_factory=MediatorParams)
    negotiation: NegotiationParams = Field(default_factory=NegotiationParams)
    factions: list[FactionSpec] = Field(default_factory=_default_factions)
    reconciliation: ReconciliationParams = Field(default_factory=ReconciliationParams)
    flight: FlightParams = Field(default_factory=FlightParams)
    returns: ReturnParams = Field(default_factory=ReturnParams)
    casualties: CasualtyParams = Field(default_factory=CasualtyParams)
    borders: BorderParams = Field(default_factory=BorderParams)
    interventions: list[Intervention] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        names = [f.name for f in self.factions]
        if len(set(names)) != len(names):
            raise ValueError(f"faction names must be unique, got {names}")
        for i, iv in enumerate(self.interventions):
            for path, value in iv.set.items():
                if is_zone_flag(path):
                    if not isinstance(value, bool):
                        raise ValueError(f"interventions[{i}].set: {path} = {value!r}: true or "
                                         "false (whether that border or frontier is open)")
                    continue
                try:
                    group, field = check_param_path(path)
                    obj = getattr(self, group).model_copy()
                    obj.__pydantic_validator__.validate_assignment(obj, field, value, strict=True)
                except ValidationError as exc:
                    err = exc.errors()[0]
                    info = type(obj).model_fields[field]
                    raise ValueError(f"interventions[{i}].set: {path} = {value!r}: {err['msg']}; "
                                     f"{describe_field(info)}") from None
                except ValueError as exc:
                    raise ValueError(f"interventions[{i}].set: {exc}") from None
            if iv.day is not None and iv.day > self.time.horizon_days:
                raise ValueError(
                    f"interventions[{i}].day: {iv.day} is after the horizon "
                    f"(time.horizon_days = {self.time.horizon_days}); use a day from 0 to "
                    f"{self.time.horizon_days} or extend the horizon")
            if iv.until_day is not None and iv.until_day > self.time.horizon_days:
                raise ValueError(
                    f"interventions[{i}].until_day: {iv.until_day} is after the horizon "
                    f"(time.horizon_days = {self.time.horizon_days}); use a day up to "
                    f"{self.time.horizon_days} or extend the horizon")
        return self


SETTABLE_GROUPS = ("regime", "mediator", "negotiation", "reconciliation", "flight", "returns",
                   "casualties", "borders")

#: Former parameter names, still accepted (scenario files, interventions, sweeps, posteriors):
#: the destination utilities became one per zone kind when cases became data (issue 14).
PARAM_ALIASES: dict[str, str] = {
    "flight.asc_jordan_border": "flight.asc_border",
    "flight.asc_golan_frontier": "flight.asc_frontier",
    "flight.asc_regime_area": "flight.asc_government",
}
#: ``borders.open.<zone>``: whether one border or frontier is open (a flag per zone of the case).
ZONE_FLAG = "borders.open."


def canonical_path(path: str) -> str:
    """A dotted parameter path with a former name replaced by the current one."""
    return PARAM_ALIASES.get(path, path)


def is_zone_flag(path: str) -> bool:
    """``borders.open.<zone>``: the open/closed flag of one border or frontier."""
    return path.startswith(ZONE_FLAG) and len(path) > len(ZONE_FLAG) and "." not in path[len(ZONE_FLAG):]


def check_param_path(path: str) -> tuple[str, str]:
    """Split "group.field" and check both exist among the groups interventions may change
    (former names are accepted, :data:`PARAM_ALIASES`). ``borders.open.<zone>`` is the flag of
    one border or frontier (its zone is checked against the case's zones when a run starts)."""
    if is_zone_flag(path):
        return "borders", "open"
    path = canonical_path(path)
    parts = path.split(".")
    if len(parts) != 2 or parts[0] not in SETTABLE_GROUPS:
        raise ValueError(f"'{path}' is not a settable parameter; use 'group.field' with group "
                         f"one of {', '.join(SETTABLE_GROUPS)}, or borders.open.<zone>")
    group, field = parts
    fields = type(getattr(Scenario(), group)).model_fields
    if field not in fields:
        import difflib

        close = difflib.get_close_matches(field, list(fields), n=1)
        hint = f" (did you mean '{group}.{close[0]}'?)" if close else ""
        if group == "borders" and field.endswith("_open"):
            hint = (" (borders are opened by zone now: borders.open = [\"<zone>\"] in the "
                    "scenario, or borders.open.<zone> = true in an intervention or sweep)")
        raise ValueError(f"'{path}' is not a parameter{hint}")
    if typing.get_origin(fields[field].annotation) is list:
        raise ValueError(f"'{path}' is a list: set borders.open.<zone> = true or false")
    return group, field


def set_param(scenario: Scenario, path: str, value: Any) -> Any:
    """Set a dotted parameter on ``scenario`` in place (validated); returns the old value."""
    group, field = check_param_path(path)
    obj = getattr(scenario, group)
    if is_zone_flag(path):
        if not isinstance(value, bool):
            raise ValueError(f"{path} must be true or false, got {value!r}")
        zone = path[len(ZONE_FLAG):]
        old = zone in obj.open
        if value and not old:
            obj.open = [*obj.open, zone]
        elif old and not value:
            obj.open = [z for z in obj.open if z != zone]
        return old
    old = getattr(obj, field)
    setattr(obj, field, value)
    return old


def get_param(scenario: Scenario, path: str) -> Any:
    """Read a dotted parameter (``group.field``, or ``borders.open.<zone>``) from a scenario."""
    group, field = check_param_path(path)
    if is_zone_flag(path):
        return path[len(ZONE_FLAG):] in scenario.borders.open
    return getattr(getattr(scenario, group), field)


def calibratable_params() -> dict[str, tuple[float, float]]:
    """The free parameters of the calibration: dotted path -> prior range."""
    out: dict[str, tuple[float, float]] = {}
    for gname, finfo in Scenario.model_fields.items():
        ann = finfo.annotation
        if not (isinstance(ann, type) and issubclass(ann, Group)):
            continue
        for fname, f in ann.model_fields.items():
            extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
            if extra.get("calibratable"):
                lo, hi = cast("tuple[float, float]", extra["prior"])  # set by param(): two numbers
                out[f"{gname}.{fname}"] = (float(lo), float(hi))
    return out
