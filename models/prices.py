"""What a model's tokens cost: `--price` first, then a maintained price table, and nothing for a model run here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from fellowship.models.spec import ModelSpec, SpecError


@dataclass(frozen=True)
class Price:
    """US dollars per million input and per million output tokens, and where the figures come from."""

    input: float
    output: float
    source: str = "--price"

    def of(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


FREE = Price(0.0, 0.0, "runs here")


def parse_price(text: str) -> tuple[str, Price]:
    """`SPEC=IN,OUT` (dollars per million tokens) as (spec, price); ValueError says what is wrong."""
    spec, sep, figures = text.rpartition("=")
    parts = figures.split(",")
    if not sep or not spec or len(parts) != 2:
        raise ValueError(f"--price {text!r}: write MODEL=IN,OUT, dollars per million input and output tokens "
                         "(e.g. openai:gpt-4o-mini=0.15,0.6)")
    try:
        prices = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"--price {text!r}: {figures!r} are not two numbers") from None
    if any(p < 0 for p in prices):
        raise ValueError(f"--price {text!r}: a price cannot be negative")
    return spec.strip(), Price(prices[0], prices[1])


@lru_cache(maxsize=256)
def _listed(model: str) -> Price | None:
    """OpenAI's price for `model` in genai-prices' table (shipped with the package: no network)."""
    from genai_prices import Usage, calc_price

    try:
        found = calc_price(Usage(input_tokens=1_000_000, output_tokens=1_000_000), model_ref=model, provider_id="openai")
    except LookupError:
        return None
    return Price(float(found.input_price), float(found.output_price), "genai-prices")


@dataclass(frozen=True)
class Prices:
    """The price of each model spec of a run: `given` (from --price) wins; a model run on this machine (local:,
    hf-local:) costs 0; an openai: model is looked up in genai-prices unless a --base-url points elsewhere
    (an OpenAI-compatible server's prices are its own); anything else has no known price (None)."""

    given: dict[str, Price]
    base_url: str | None = None

    def of(self, spec: str) -> Price | None:
        if spec in self.given:
            return self.given[spec]
        try:
            parsed = ModelSpec.parse(spec)
        except SpecError:  # a registered model (tests, Python users): priced only by --price
            return None
        if parsed.provider in ("local", "hf-local"):
            return FREE
        if parsed.provider == "openai" and not self.base_url:
            return _listed(parsed.target)
        return None

    def unknown(self, specs: list[str]) -> list[str]:
        """The specs with no price, in order, once each."""
        return [s for s in dict.fromkeys(specs) if self.of(s) is None]
