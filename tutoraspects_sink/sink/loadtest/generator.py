"""The load-test generator: real tracking events, through the tracker, for N test users.

Events are emitted the way the LMS emits them: ``eventtracking.tracker.emit`` inside the
contexts the LMS enters for a request (user, session, ip, agent...) and for a course (course
id, org), so they cross the configured processors and backends exactly as production events
do. The mix: enrollment changes (``CourseEnrollment.enroll``/``unenroll``, which emit
``edx.course.enrollment.activated``/``deactivated``), video plays (``play_video``, as the
video player sends it: browser event, the bare block id in ``event.id``) and problem checks
(``problem_check``, as the problem block publishes it: server event in the block's context).

"Sent" is what the ClickHouse tracking backends of this process received during the run (so
an event a platform call emits, or not, is counted as it really is); events a transport could
not take are counted as dropped by it and will show up as lost.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from .. import conf as sink_conf
from .. import edx_platform
from ..tracking import conf as tracking_conf
from ..tracking import transports
from ..tracking.backend import ClickHouseTrackingBackend
from . import course as course_module
from . import runs

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECS = 5.0


@dataclass
class LoadTestOptions:
    num_users: int = 10
    username_prefix: str = "lt_"
    num_events: int = 10
    duration: float | None = None  # seconds; overrides num_events
    run_until_killed: bool = False
    rate: float = 0.0  # events per second; 0: as fast as possible
    tags: list[str] = field(default_factory=list)
    course_key: str | None = None  # an existing published course; default: create one
    num_videos: int = 10
    num_problems: int = 5
    enrollment_share: float = 0.02  # of the events: enrollment changes
    video_share: float = 0.6  # of the others: video plays; the rest: problem checks
    run_id: str | None = None
    flush_timeout: float = 120.0


@dataclass
class LoadTestResult:
    run_id: str
    course_key: str
    transport: str
    sent: int
    dropped: int
    duration_secs: float
    delivered_to_transport: bool

    @property
    def rate(self) -> float:
        return self.sent / self.duration_secs if self.duration_secs > 0 else 0.0


def tracking_backends() -> list[ClickHouseTrackingBackend]:
    """The ClickHouse tracking backends of the default tracker (nested ones included)."""
    from eventtracking import tracker

    found: list[ClickHouseTrackingBackend] = []
    pending = list(tracker.get_tracker().backends.values())
    while pending:
        backend = pending.pop()
        if isinstance(backend, ClickHouseTrackingBackend):
            found.append(backend)
        pending.extend(getattr(backend, "backends", {}).values())
    return found


class LoadTest:
    """One load-test run: :meth:`setup`, then :meth:`run`; :meth:`stop` from any thread."""

    def __init__(
        self,
        options: LoadTestOptions,
        say: Callable[[str], None] = log.info,
        writer: ClickHouseWriter | None = None,
    ) -> None:
        self.options = options
        self.say = say
        self.records = runs.LoadTestRecords(writer or sink_conf.writer())
        self.run_id = options.run_id or uuid.uuid4().hex[:12]
        self.stop_requested = threading.Event()
        self.random = random.Random()  # noqa: S311 - load test choices, not secrets
        self.users: list[Any] = []
        self.enrolled: dict[int, bool] = {}
        self.course: course_module.LoadTestCourse | None = None
        self._user_contexts: dict[int, dict[str, Any]] = {}
        self._course_contexts: dict[int, dict[str, Any]] = {}

    # -- setup -------------------------------------------------------------------------------

    def setup(self) -> None:
        from eventtracking import tracker

        try:
            tracker.get_tracker()
        except KeyError:
            raise RuntimeError("event tracking is not set up (EVENT_TRACKING_ENABLED)") from None
        if not tracking_backends():
            raise RuntimeError(
                "no ClickHouse tracking backend in EVENT_TRACKING_BACKENDS: add "
                "tutoraspects_sink.sink.tracking.backend.ClickHouseTrackingBackend"
            )
        if not tracking_conf.enabled():
            raise RuntimeError("EVENT_SINK_CLICKHOUSE_TRACKING_ENABLED is off")
        runs.retrying(self.records.check_tables, "check the load-test tables", 120)
        prefix = self.options.username_prefix
        instructor = self._create_users([f"{prefix}instructor_{self.run_id}"])[0]
        if self.options.course_key:
            from opaque_keys.edx.keys import CourseKey

            self.course = course_module.existing_course(
                CourseKey.from_string(self.options.course_key)
            )
        else:
            self.course = course_module.create_course(
                instructor.id,
                f"LT{self.run_id}",
                self.options.num_videos,
                self.options.num_problems,
            )
        self.say(f"Course {self.course.course_key}: {len(self.course.videos)} videos, "
                 f"{len(self.course.problems)} problems.")  # fmt: skip
        self.users = self._create_users(
            [f"{prefix}{self.run_id}_{index}" for index in range(self.options.num_users)]
        )
        enrollment = edx_platform.get_model("course_enrollment")
        for index, user in enumerate(self.users):
            self._user_contexts[user.id] = self._request_context(user, index)
            self.enrolled[user.id] = False
            if enrollment is not None:
                with self._context("edx.request", self._user_contexts[user.id]):
                    enrollment.enroll(user, self.course.course_key)
                self.enrolled[user.id] = True
        self.say(f"{len(self.users)} users created and enrolled.")
        transports.flush_all(self.options.flush_timeout)

    @staticmethod
    def _create_users(names: list[str]) -> list[Any]:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password

        user_model = get_user_model()
        unusable = make_password(None)  # nobody logs in as a load-test user
        user_model.objects.bulk_create(
            [
                user_model(username=name, email=f"{name}@loadtest.invalid", password=unusable)
                for name in names
            ]
        )
        users = list(user_model.objects.filter(username__in=names).order_by("id"))
        # Every LMS account has a profile (the enrollment signals read the learner's name).
        profile_model = edx_platform.get_model("user_profile")
        if profile_model is not None:
            profile_model.objects.bulk_create(
                [
                    profile_model(user=user, name=f"Load test learner {user.username}")
                    for user in users
                ]
            )
        return users

    @staticmethod
    def _request_context(user: Any, index: int) -> dict[str, Any]:
        """What the LMS's tracking middleware puts in the context of a user's request."""
        return {
            "user_id": user.id,
            "username": user.username,
            "session": uuid.uuid5(uuid.NAMESPACE_OID, user.username).hex,
            "ip": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}",
            "agent": "Mozilla/5.0 (X11; Linux x86_64) aspects-sink-load-test",
            "host": "lms.loadtest.invalid",
            "path": "/event",
            "referer": "https://lms.loadtest.invalid/dashboard",
            "accept_language": "en-US,en;q=0.9",
        }

    # -- run ---------------------------------------------------------------------------------

    def run(self) -> LoadTestResult:
        if self.course is None:
            self.setup()
        assert self.course is not None
        course = self.course
        transport_name = self._transport_name()
        started = datetime.now(UTC)
        self.records.record(
            self.run_id,
            "start",
            {
                **{key: value for key, value in asdict(self.options).items() if key != "run_id"},
                "course_key": str(course.course_key),
                "transport": transport_name,
                "started_at": started.isoformat(),
                "host": socket.gethostname(),
            },
        )
        self.say(f"Load test run {self.run_id} started ({transport_name} transport).")
        received_before, dropped_before = self._received(), self._dropped()
        clock = time.monotonic()
        emitted = 0
        next_progress = clock + PROGRESS_EVERY_SECS
        try:
            for _ in self._schedule():
                self._emit_one()
                emitted += 1
                if time.monotonic() >= next_progress:
                    next_progress += PROGRESS_EVERY_SECS
                    elapsed = time.monotonic() - clock
                    self.say(f"{emitted} events in {elapsed:.0f} s ({emitted / elapsed:.0f}/s)")
        finally:
            duration = time.monotonic() - clock
            delivered = transports.flush_all(self.options.flush_timeout)
            sent = self._received() - received_before
            dropped = self._dropped() - dropped_before
            self.records.record(
                self.run_id,
                "end",
                {
                    "sent": sent,
                    "dropped": dropped,
                    "duration_secs": round(duration, 3),
                    "ended_at": datetime.now(UTC).isoformat(),
                    "delivered_to_transport": delivered,
                },
            )
        result = LoadTestResult(
            run_id=self.run_id,
            course_key=str(course.course_key),
            transport=transport_name,
            sent=sent,
            dropped=dropped,
            duration_secs=duration,
            delivered_to_transport=delivered,
        )
        self.say(
            f"Load test run {self.run_id} ended: {result.sent} events sent in "
            f"{result.duration_secs:.1f} s ({result.rate:.0f}/s), {result.dropped} dropped by "
            f"the transport."
        )
        return result

    def stop(self) -> None:
        self.stop_requested.set()

    def _transport_name(self) -> str:
        names = sorted({backend.transport.name for backend in tracking_backends()})
        return ",".join(names)

    @staticmethod
    def _received() -> int:
        # Every backend receives every event: with several (one per transport or database),
        # the number of events is what each of them received.
        return max((backend.received for backend in tracking_backends()), default=0)

    @staticmethod
    def _dropped() -> int:
        return sum(transport.dropped for transport in transports.active())

    def _schedule(self) -> Iterator[None]:
        """Yield once per event to emit, paced at the target rate, until done or stopped."""
        options = self.options
        interval = 1.0 / options.rate if options.rate > 0 else 0.0
        start = time.monotonic()
        deadline = start + options.duration if options.duration else None
        count = 0
        while not self.stop_requested.is_set():
            if deadline is not None:
                if time.monotonic() >= deadline:
                    return
            elif not options.run_until_killed and count >= options.num_events:
                return
            if interval:
                delay = start + count * interval - time.monotonic()
                if delay > 0.001:
                    self.stop_requested.wait(delay)
            count += 1
            yield

    # -- events ------------------------------------------------------------------------------

    @staticmethod
    def _context(name: str, values: dict[str, Any]) -> Any:
        from eventtracking import tracker

        return tracker.get_tracker().context(name, values)

    def _emit_one(self) -> None:
        assert self.course is not None
        user = self.random.choice(self.users)
        roll = self.random.random()
        if roll < self.options.enrollment_share or not (self.course.videos or self.course.problems):
            self._toggle_enrollment(user)
        elif self.course.videos and (
            not self.course.problems or self.random.random() < self.options.video_share
        ):
            self._play_video(user, self.random.choice(self.course.videos))
        else:
            self._check_problem(user, self.random.choice(self.course.problems))

    def _course_context(self) -> dict[str, Any]:
        assert self.course is not None
        return {
            "course_id": str(self.course.course_key),
            "org_id": self.course.org,
            "course_user_tags": {},
        }

    def _request_in_course(self, user: Any) -> dict[str, Any]:
        """The user's request context within the course (built once per user)."""
        cached = self._course_contexts.get(user.id)
        if cached is None:
            cached = self._course_contexts[user.id] = {
                **self._user_contexts[user.id],
                **self._course_context(),
            }
        return cached

    def _toggle_enrollment(self, user: Any) -> None:
        assert self.course is not None
        enrollment = edx_platform.get_model("course_enrollment")
        if enrollment is None:
            return
        with self._context("edx.request", self._user_contexts[user.id]):
            if self.enrolled[user.id]:
                enrollment.unenroll(user, self.course.course_key)
            else:
                enrollment.enroll(user, self.course.course_key)
        self.enrolled[user.id] = not self.enrolled[user.id]

    def _play_video(self, user: Any, video: Any) -> None:
        from eventtracking import tracker

        assert self.course is not None
        context = {
            **self._request_in_course(user),
            "event_source": "browser",
            "page": f"https://lms.loadtest.invalid/courses/{self.course.course_key}/jump_to/{video}",
        }
        data = {
            "id": video.block_id,
            "code": "html5",
            "currentTime": round(self.random.uniform(0, 600), 3),
            "duration": 600.0,
        }
        with self._context("edx.course.browser", context):
            tracker.emit("play_video", data)

    def _check_problem(self, user: Any, problem: Any) -> None:
        from eventtracking import tracker

        assert self.course is not None
        correct = self.random.random() < 0.6
        answer_id = f"{problem.block_id}_2_1"
        usage_key = str(problem)
        context = {
            **self._request_in_course(user),
            "module": {
                "display_name": self.course.names.get(usage_key, ""),
                "usage_key": usage_key,
            },
        }
        data = {
            "problem_id": usage_key,
            "attempts": self.random.randint(1, 3),
            "success": "correct" if correct else "incorrect",
            "grade": 1 if correct else 0,
            "max_grade": 1,
            "answers": {answer_id: "choice_1" if correct else "choice_2"},
            "correct_map": {answer_id: {"correctness": "correct" if correct else "incorrect"}},
            "submission": {
                answer_id: {"question": "Pick one", "answer": "choice", "correct": correct}
            },
        }
        with self._context(usage_key, context):
            tracker.emit("problem_check", data)
