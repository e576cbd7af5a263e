"""The move catalogue.

Every move as a :class:`MoveSpec` by name (:data:`VOCABULARY`), the family names, and
:func:`build_move`, which looks a move up and builds it.
"""

from __future__ import annotations

from motionbeat.choreography.moves.arms import (
    _arm_move,
    _arm_wave,
    _arms_cross,
    _big_swing,
    _clap,
    _clap_every,
    _disco_point,
    _hands_on_hips,
    _overhead_sway,
    _punch,
    _raise_roof,
    _shoulder_roll,
    _wave_hello,
    _windmill,
)
from motionbeat.choreography.moves.clip import MoveClip, MoveParams, MoveSpec
from motionbeat.choreography.moves.groove import (
    body_roll,
    bounce,
    chest_pop,
    groove_down,
    groove_up,
    head_nod,
    hip_sway,
    rise_bounce,
    rock_fb,
    shimmy,
    sway,
    twist,
)
from motionbeat.choreography.moves.jumps import (
    hop_turn,
    jump_in_place,
    jumping_jack,
    pony,
    scissors,
    side_hops,
    skip,
)
from motionbeat.choreography.moves.kicks import flick_back, kick_front, knee_lift, side_kick
from motionbeat.choreography.moves.stepping import (
    cha_cha,
    double_step_touch,
    heel_toe,
    jazz_box,
    kick_ball_change,
    mambo,
    march,
    rock_step,
    side_tap,
    step_touch,
    toe_tap,
    v_step,
)
from motionbeat.choreography.moves.travelling import (
    diagonal_slide,
    grapevine,
    side_chasse,
    walk_back,
    walk_forward,
)
from motionbeat.choreography.moves.turns import half_turn, pivot_turn, quarter_turn, spin
from motionbeat.choreography.moves.waltz import balance, hesitation, waltz_box, waltz_sway, waltz_turn

# ============================================================================ vocabulary

VOCABULARY: dict[str, MoveSpec] = {
    s.name: s
    for s in [
        # groove family: weight and body, no steps (any meter)
        MoveSpec("bounce", "groove", bounce, 0.3, 0.0, (3, 4)),
        MoveSpec("rise_bounce", "groove", rise_bounce, 0.4, 0.0, (3, 4)),
        MoveSpec("sway", "groove", sway, 0.15, 0.0, (3, 4)),
        MoveSpec("hip_sway", "groove", hip_sway, 0.3, 0.0, (3, 4)),
        MoveSpec("body_roll", "groove", body_roll, 0.45, 0.0, (4,)),
        MoveSpec("chest_pop", "groove", chest_pop, 0.6, 0.0, (4,)),
        MoveSpec("shimmy", "groove", shimmy, 0.55, 0.0, (4,)),
        MoveSpec("head_nod", "groove", head_nod, 0.3, 0.0, (3, 4)),
        MoveSpec("twist", "groove", twist, 0.55, 0.0, (4,)),
        MoveSpec("rock_fb", "groove", rock_fb, 0.35, 0.0, (4,)),
        MoveSpec("groove_down", "groove", groove_down, 0.5, 0.0, (4,)),
        MoveSpec("groove_up", "groove", groove_up, 0.5, 0.0, (4,)),
        # stepping family
        MoveSpec("step_touch", "step", step_touch, 0.35, 1.0),
        MoveSpec("double_step_touch", "step", double_step_touch, 0.4, 1.0),
        MoveSpec("march", "step", march, 0.5, 1.0),
        MoveSpec("toe_tap", "step", toe_tap, 0.4, 1.0),
        MoveSpec("side_tap", "step", side_tap, 0.45, 1.0),
        MoveSpec("rock_step", "step", rock_step, 0.45, 1.0),
        MoveSpec("mambo", "step", mambo, 0.55, 1.0),
        MoveSpec("jazz_box", "step", jazz_box, 0.45, 1.0),
        MoveSpec("v_step", "step", v_step, 0.6, 1.0),
        MoveSpec("cha_cha", "step", cha_cha, 0.6, 1.5),
        MoveSpec("heel_toe", "step", heel_toe, 0.5, 1.0),
        # travelling steps
        MoveSpec("grapevine", "travel", grapevine, 0.55, 1.0),
        MoveSpec("side_chasse", "travel", side_chasse, 0.6, 1.0),
        MoveSpec("walk_forward", "travel", walk_forward, 0.4, 1.0),
        MoveSpec("walk_back", "travel", walk_back, 0.4, 1.0),
        MoveSpec("diagonal_slide", "travel", diagonal_slide, 0.5, 1.0),
        # kicks
        MoveSpec("kick_ball_change", "kick", kick_ball_change, 0.7, 1.75, weight=0.6),
        MoveSpec("kick_front", "kick", kick_front, 0.75, 1.0),
        MoveSpec("side_kick", "kick", side_kick, 0.65, 0.5),
        MoveSpec("knee_lift", "kick", knee_lift, 0.6, 1.0),
        MoveSpec("flick_back", "kick", flick_back, 0.65, 1.0),
        # jumps
        MoveSpec("jump_in_place", "jump", jump_in_place, 0.85, 1.0, weight=0.6),
        MoveSpec("jumping_jack", "jump", jumping_jack, 0.9, 2.0, weight=0.6),
        MoveSpec("hop_turn", "turn", hop_turn, 0.8, 1.0, (3, 4), weight=0.2),
        MoveSpec("pony", "jump", pony, 0.8, 1.75, weight=0.7),
        MoveSpec("scissors", "jump", scissors, 0.9, 1.0, weight=0.5),
        MoveSpec("side_hops", "jump", side_hops, 0.8, 1.0, weight=0.6),
        MoveSpec("skip", "travel", skip, 0.75, 1.5, weight=0.7),
        # turns and floor-facing changes
        MoveSpec("spin", "turn", spin, 0.6, 1.0, weight=0.6),
        MoveSpec("half_turn", "turn", half_turn, 0.5, 0.5, weight=0.5),
        MoveSpec("quarter_turn", "turn", quarter_turn, 0.4, 1.0, weight=0.5),
        MoveSpec("pivot_turn", "turn", pivot_turn, 0.55, 1.0, weight=0.6),
        # arm overlays (combined with a lower-body move)
        MoveSpec("arm_wave", "arms", _arm_move("arm_wave", _arm_wave), 0.45, 0.0, (3, 4)),
        MoveSpec("clap", "arms", _arm_move("clap", _clap), 0.5, 0.0, (4,)),
        MoveSpec("clap_every", "arms", _arm_move("clap_every", _clap_every), 0.65, 0.0, (3, 4)),
        MoveSpec("punch", "arms", _arm_move("punch", _punch), 0.75, 0.0, (4,)),
        MoveSpec("raise_roof", "arms", _arm_move("raise_roof", _raise_roof), 0.8, 0.0, (3, 4)),
        MoveSpec("disco_point", "arms", _arm_move("disco_point", _disco_point), 0.6, 0.0, (4,)),
        MoveSpec("big_swing", "arms", _arm_move("big_swing", _big_swing), 0.55, 0.0, (4,)),
        MoveSpec("windmill", "arms", _arm_move("windmill", _windmill), 0.7, 0.0, (4,), weight=0.6),
        MoveSpec(
            "overhead_sway", "arms", _arm_move("overhead_sway", _overhead_sway), 0.6, 0.0, (4,)
        ),
        MoveSpec(
            "hands_on_hips", "arms", _arm_move("hands_on_hips", _hands_on_hips), 0.3, 0.0, (3, 4)
        ),
        MoveSpec(
            "shoulder_roll", "arms", _arm_move("shoulder_roll", _shoulder_roll), 0.35, 0.0, (4,)
        ),
        MoveSpec("wave_hello", "arms", _arm_move("wave_hello", _wave_hello), 0.3, 0.0, (3, 4)),
        MoveSpec("arms_cross", "arms", _arm_move("arms_cross", _arms_cross), 0.6, 0.0, (4,)),
        # 3/4
        MoveSpec("waltz_box", "waltz", waltz_box, 0.4, 1.0, (3,)),
        MoveSpec("balance", "waltz", balance, 0.45, 1.0, (3,)),
        MoveSpec("waltz_sway", "waltz", waltz_sway, 0.25, 0.0, (3,)),
        MoveSpec("waltz_turn", "waltz", waltz_turn, 0.5, 0.5, (3,)),
        MoveSpec("hesitation", "waltz", hesitation, 0.3, 0.5, (3,)),
    ]
}
"""Every move by name. Families: groove, step, travel, kick, jump, turn, arms, waltz."""

FAMILIES: tuple[str, ...] = ("groove", "step", "travel", "kick", "jump", "turn", "arms", "waltz")


def build_move(name: str, params: MoveParams, mirror: bool = False) -> MoveClip:
    """Instantiate a vocabulary move; ``mirror`` leads with the other side."""
    clip = VOCABULARY[name].build(params)
    return clip.mirrored() if mirror else clip
