"""The incident record's words, defined once: actions, signs, outcomes and aftercare, and
how each reads on screen and on paper.

The words are stable: the store validates against them (`oximon.store.record`), review
and reports count them (`oximon.review`), the response panel offers them (`oximon.response`
and its view `oximon.ui.response`). A label may change; a word never does (records keep it).
"""

from __future__ import annotations

# action word -> how review and the records read it
ACTION_LABELS: dict[str, str] = {
    "stimulated": "Stimulated", "airway": "Airway opened",
    "rescue_breaths_started": "Rescue breaths started",
    "rescue_breaths_stopped": "Rescue breaths stopped", "oxygen_on": "Oxygen on",
    "oxygen_off": "Oxygen off", "naloxone": "Naloxone", "911_called": "9-1-1 called",
    "ehs_arrived": "EHS arrived", "recovery_position": "Recovery position",
    "cpr_started": "CPR started", "cpr_stopped": "CPR stopped", "sign": "Sign seen",
    "note": "Note",
}
ACTIONS = frozenset(ACTION_LABELS)  # IncidentLog's contract with the dashboard
# "sign" (a sign seen) and "note" are observations, not responses, so they do not end
# "alarm → first action".
RESPONSE_ACTIONS = ACTIONS - {"sign", "note"}

# sign word -> what the response panel's box says
SIGN_LABELS: dict[str, str] = {
    "unresponsive": "unresponsive", "slow_breathing": "slow breathing",
    "no_breathing": "no breathing", "snoring_gurgling": "snoring or gurgling",
    "blue_lips_nails": "blue or grey lips or nails", "cold_clammy_skin": "cold or clammy skin",
    "tiny_pupils": "tiny pupils", "stiff_body": "stiff body",
}
SIGNS = frozenset(SIGN_LABELS)

# The outcomes a person chooses (all that apply) -> what the button says.
OUTCOME_LABELS: dict[str, str] = {
    "responsive": "responsive", "breathing_on_own": "breathing on own",
    "transported": "transported", "left_site": "left the site", "died": "died"}
OPENED_IN_ERROR = "opened_in_error"  # discarded on the dashboard: kept, never counted
# Every outcome a record may hold: in the order review lists them, and as the set the
# store checks against.
OUTCOME_ORDER: tuple[str, ...] = (*OUTCOME_LABELS, OPENED_IN_ERROR)
OUTCOMES = frozenset(OUTCOME_ORDER)
NOT_RECORDED = "not_recorded"  # closed by oximon (alarms quiet) or still open: no outcome

AFTERCARE_LABELS: dict[str, str] = {
    "advised_no_use_2h": "advised not to use for 2 hours",
    "observed_resedation": "observed for re-sedation"}
AFTERCARE_ORDER: tuple[str, ...] = tuple(AFTERCARE_LABELS)
AFTERCARE = frozenset(AFTERCARE_ORDER)
