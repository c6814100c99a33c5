"""What every flow's activities share: their dependencies, and how a business refusal is raised
(non-retryable, with the stable type the API maps to an HTTP answer; docs/architecture.md)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.mail import MailSender
from core.settings import Settings


def refuse(message: str, error: str) -> ApplicationError:
    """A business refusal: retrying cannot change it."""
    return ApplicationError(message, type=error, non_retryable=True)


class FlowActivities:
    """Holds the dependencies; the worker registers the subclass's bound methods."""

    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        mail: MailSender,
    ) -> None:
        self._settings = settings
        self._sessions = session_factory
        self._mail = mail

    def link_url(self, kind: str, path: str) -> str:
        """The URL a mail links to, with `{token}` where the link's token goes: the vendor's
        portal when `link_templates` names one for this kind of link, else this service's page."""
        template = self._settings.link_templates.get(kind)
        return template or f"{self._settings.public_base_url.rstrip('/')}{path}"
