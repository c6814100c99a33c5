"""A few reused SMTP connections: a message then costs MAIL/RCPT/DATA, not a new TCP session and
EHLO each time. A connection the server dropped while idle is replaced once, transparently."""

from __future__ import annotations

import asyncio

import aiosmtplib

from core.settings import Settings


class SmtpPool:
    def __init__(self, settings: Settings, size: int = 4) -> None:
        self._settings = settings
        self._slots = asyncio.Semaphore(size)
        self._idle: list[aiosmtplib.SMTP] = []

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            use_tls=s.smtp_tls == "tls",
            start_tls=True if s.smtp_tls == "starttls" else False,
            timeout=s.smtp_timeout_seconds,
        )
        await client.connect()
        return client

    async def send(self, sender: str, recipient: str, message: bytes) -> None:
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                try:
                    await self._transmit(client, sender, recipient, message)
                except aiosmtplib.SMTPServerDisconnected:
                    client.close()
                    client = await self._connect()
                    await self._transmit(client, sender, recipient, message)
            except BaseException:
                # After a refusal or an error the session state is unknown: never reuse it.
                if client is not None:
                    client.close()
                raise
            self._idle.append(client)

    async def _transmit(
        self, client: aiosmtplib.SMTP, sender: str, recipient: str, message: bytes
    ) -> None:
        """The message's transaction, its replies awaited as long as RFC 5321 lets a server
        take: giving up on a slow "250" would only send the same message again."""
        timeout = self._settings.smtp_message_timeout_seconds
        await client.sendmail(sender, [recipient], message, timeout=timeout)

    async def close(self) -> None:
        while self._idle:
            client = self._idle.pop()
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()
