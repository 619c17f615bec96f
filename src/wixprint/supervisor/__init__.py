"""Generic Trio supervision: OTP semantics with Akka-style backoff. Knows nothing of printers.

* :class:`Supervisor` runs :class:`ChildSpec` children with a :class:`Strategy`, restart
  intensity and per-child :class:`Backoff`; :func:`supervisor_spec` nests supervisors.
* :func:`current_child` gives a child its :class:`ChildHandle` (stop request, mark healthy).
* :meth:`Supervisor.statistics` and :func:`statistics_to_json` expose the tree;
  :class:`HistoryStore` keeps restart history across process restarts.
* :mod:`wixprint.supervisor.faults` holds named crash-injection points;
  :mod:`wixprint.supervisor.bus` an in-process publish/subscribe bus.
"""

from __future__ import annotations

from wixprint.supervisor import bus as bus
from wixprint.supervisor import faults as faults
from wixprint.supervisor._backoff import Backoff as Backoff
from wixprint.supervisor._events import Action as Action
from wixprint.supervisor._events import Classification as Classification
from wixprint.supervisor._events import ErrorInfo as ErrorInfo
from wixprint.supervisor._events import RestartEvent as RestartEvent
from wixprint.supervisor._handle import ChildHandle as ChildHandle
from wixprint.supervisor._handle import current_child as current_child
from wixprint.supervisor._history import HistorySnapshot as HistorySnapshot
from wixprint.supervisor._history import HistoryStore as HistoryStore
from wixprint.supervisor._history import ProcessRecord as ProcessRecord
from wixprint.supervisor._nesting import supervisor_spec as supervisor_spec
from wixprint.supervisor._spec import ChildSpec as ChildSpec
from wixprint.supervisor._spec import Restart as Restart
from wixprint.supervisor._spec import Strategy as Strategy
from wixprint.supervisor._stats import ChildState as ChildState
from wixprint.supervisor._stats import ChildStatistics as ChildStatistics
from wixprint.supervisor._stats import SupervisorState as SupervisorState
from wixprint.supervisor._stats import SupervisorStatistics as SupervisorStatistics
from wixprint.supervisor._stats import statistics_to_json as statistics_to_json
from wixprint.supervisor._supervisor import Supervisor as Supervisor
from wixprint.supervisor.bus import Bus as Bus
from wixprint.supervisor.bus import BusStatistics as BusStatistics
from wixprint.supervisor.bus import CoalescingSubscription as CoalescingSubscription
from wixprint.supervisor.bus import Subscription as Subscription
