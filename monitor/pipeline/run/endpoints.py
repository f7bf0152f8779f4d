"""What runs learned of each model's endpoint (OpenAI: chat or Responses), told to an adapter and kept."""

from __future__ import annotations

from sqlalchemy import select, update

from monitor.providers.base import LearnsEndpoints, Provider
from monitor.store.db import Database
from monitor.store.tables import Model


def load_apis(db: Database, provider_name: str, provider: Provider) -> None:
    """Tell an adapter that can choose an endpoint (OpenAI: chat or Responses) what earlier runs learned."""
    if not isinstance(provider, LearnsEndpoints):
        return
    with db.session() as session:
        rows = session.execute(
            select(Model.model_id, Model.api).where(Model.provider == provider_name, Model.api.is_not(None))
        ).all()
    provider.use_apis({model_id: api for model_id, api in rows if api is not None})


def store_apis(db: Database, provider_name: str, provider: Provider) -> None:
    """Keep what the adapter learned (a model that answers only on Responses) in `models.api`."""
    if not isinstance(provider, LearnsEndpoints):
        return
    with db.session() as session:
        for model_id, api in provider.learned_apis().items():
            session.execute(
                update(Model)
                .where(
                    Model.provider == provider_name,
                    Model.model_id == model_id,
                    Model.api.is_distinct_from(api),
                )
                .values(api=api)
            )
