"""Template mining (pure): drain3 refined, generic masking, content-addressed template ids."""

from __future__ import annotations

from streamapp.mining.ids import template_id
from streamapp.mining.miner import TemplateMiner
from streamapp.mining.results import MineResult, TemplateChange, TemplateInfo
from streamapp.mining.state import InvalidState

__all__ = ["InvalidState", "MineResult", "TemplateChange", "TemplateInfo", "TemplateMiner", "template_id"]
