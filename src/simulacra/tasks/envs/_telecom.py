"""The τ²-bench telecom domain: a carrier's support desk, and the caller's own phone.

Two sets of tools act on one state. The agent's (``TelecomEnv``) look up and change the
carrier's database: tables ``customers``, ``lines``, ``plans``, ``devices`` and
``bills``, keyed by id in the data file's order. The simulated user's (``PhoneEnv``,
``TelecomEnv.user_side``) read and change table ``phone``: row ``device`` (SIM, airplane
mode, signal, network mode, mobile data, roaming, data saver, APN, Wi-Fi, Wi-Fi calling,
VPN, apps and their permissions, battery) and row ``surroundings`` (who and where the
user is, the signal of each network technology there, and what the carrier's side
decides for the phone: whether the line is active, roaming allowed, the data allowance
used up, a payment request pending).

After every call on either side the two are brought in step, as the benchmark does:
the line's status, roaming and data allowance are copied into the surroundings, a
payment the user made marks the bill paid, and a bill awaiting payment becomes the
user's payment request. The phone's connection is worked out again (a "network
search") whenever a setting that affects it changes: the SIM and network mode decide
the technology and signal, and airplane mode, a broken APN or an inactive line mean no
service. Mobile data works with service, data on, roaming on and allowed when abroad,
and allowance left; the speed test's figure is the technology's mid range scaled by
the signal, a slow VPN (x0.1) and data saver (x0.2); MMS also needs 3G or better, no
MMS over Wi-Fi calling, an MMSC URL and the messaging app's SMS and storage rights.

A task (the τ² format) starts from initialisation actions, set-up functions on either
side that are not tools (``turn_airplane_mode_on``, ``set_data_usage`` ...); it is
scored by its ``reward_basis``: assertions on the final state (``ENV_ASSERTION``), the
reference actions each matched by a call of the right side (``ACTION``), the state
equal to the reference's replay (``DB``), strings the agent must say
(``COMMUNICATE``). The scenario's "now" is 2025-02-25 12:08 EST.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simulacra._records import read_json
from simulacra.errors import ConfigError, ToolError
from simulacra.tasks.envs._base import EnvFactory, Environment, ToolCallRecord, tool
from simulacra.tasks.envs._policy import FunctionRule, PolicyViolation, RequirePriorCall
from simulacra.tasks.envs._task import (
    Action,
    AssertionVerdict,
    EnvScore,
    EnvTask,
    JudgedAssertions,
    failed_actions,
    missing_outputs,
    validate_tasks,
)

__all__ = [
    "ApnSettings",
    "EnvAssertion",
    "EnvFunctionCall",
    "PhoneEnv",
    "Tau2Criteria",
    "TelecomEnv",
    "load_tau2_telecom",
    "phone_requests",
    "phone_state",
    "sync",
    "task_id",
    "telecom_policy",
]

TODAY = date(2025, 2, 25)
"""The scenario's date (its time is 12:08 EST)."""
AGENT_TABLES = ("customers", "lines", "plans", "devices", "bills")
_KEYS = {
    "customers": "customer_id",
    "lines": "line_id",
    "plans": "plan_id",
    "devices": "device_id",
    "bills": "bill_id",
}
MAX_REFUEL_GB = 2.0
TRANSFER_MESSAGE = "YOU ARE BEING TRANSFERRED TO A HUMAN AGENT. PLEASE HOLD ON."

# -- the phone ---------------------------------------------------------------------------

_SIGNAL_BAR = {
    "none": "📵 No Signal",
    "poor": "📶¹ Poor",
    "fair": "📶² Fair",
    "good": "📶³ Good",
    "excellent": "📶⁴ Excellent",
}
_SPEED_RANGE = {"2G": (0.1, 0.4), "3G": (1.0, 5.0), "4G": (10.0, 100.0), "5G": (50.0, 500.0)}
_SIGNAL_FACTOR = {"poor": 0.2, "fair": 0.5, "good": 0.8, "excellent": 1.0}
_SPEED_ADVICE = {
    "Very Poor": "Connection is very slow. Basic web browsing might be difficult.",
    "Poor": "Connection is slow. Web browsing may be sluggish, streaming difficult.",
    "Fair": "Connection is okay for web browsing and some standard definition streaming.",
    "Good": "Connection is good for most activities, including HD streaming.",
    "Excellent": "Connection is very fast.",
}
_MODE_TECH = {"4g_only": "4G", "3g_only": "3G", "2g_only": "2G"}
NETWORK_MODES = ("4g_5g_preferred", "4g_only", "3g_only", "2g_only")
_SIM_TEXT = {
    "active": "Your SIM card is active and working.",
    "missing": "No SIM card detected in the phone.",
    "locked_pin": "The SIM card is locked with a PIN code.",
    "locked_puk": "The SIM card is locked with a PUK code.",
}
_DEFAULT_APN: dict[str, Any] = {
    "apn_name": "internet",
    "reset_at_reboot": False,
    "mms_apn": "mms",
    "mmsc_url": "http://mms.carrier.com/mms/wapenc",
    "mms_proxy": None,
    "mms_port": None,
}
_DEVICE_DEFAULTS: dict[str, Any] = {
    "sim_card_status": "active",
    "sim_card_missing": False,
    "airplane_mode": False,
    "network_signal_strength": "good",
    "network_technology_connected": "5G",
    "network_connection_status": "connected",
    "battery_level": 80,
    "data_enabled": True,
    "roaming_enabled": False,
    "network_mode_preference": "4g_5g_preferred",
    "active_apn_settings": _DEFAULT_APN,
    "wifi_enabled": False,
    "wifi_connected": False,
    "wifi_ssid": None,
    "wifi_signal_strength": "none",
    "wifi_calling_enabled": False,
    "wifi_calling_mms_over_wifi": False,
    "data_saver_mode": False,
    "vpn_enabled_setting": False,
    "vpn_connected": False,
    "vpn_details": None,
    "app_statuses": {},
}
_PERMISSIONS = ("sms", "storage", "phone", "network")
APN_NAMES = ("internet", "broken")


class ApnSettings(TypedDict, total=False):
    """A phone's APN settings (every field optional: the carrier's default fills it).

    Attributes:
        apn_name: The APN's name: 'internet' (or 'broken').
        mms_apn: The APN used for MMS, such as 'mms'.
        mmsc_url: The MMSC URL for picture messages.
        mms_proxy: The MMS proxy, if the network needs one.
        mms_port: The MMS proxy's port.
        reset_at_reboot: Whether the settings reset to the defaults at the next reboot.
    """

    apn_name: str
    mms_apn: str
    mmsc_url: str
    mms_proxy: str
    mms_port: int
    reset_at_reboot: bool


_SURROUNDINGS: dict[str, Any] = {
    "name": None,
    "phone_number": None,
    "is_abroad": False,
    "roaming_allowed": False,
    "signal_strength": {"2G": "poor", "3G": "fair", "4G": "good", "5G": "excellent"},
    "mobile_data_usage_exceeded": False,
    "line_active": True,
    "payment_request": None,
}
_VPN = {"server_address": "192.168.1.1", "protocol": "OpenVPN", "server_performance": "excellent"}


def phone_state(user_db: Mapping[str, Any]) -> dict[str, Any]:
    """The ``phone`` table from a user database (``{device: {...}}``), every field that
    the data file leaves out at its default, surroundings as before any task."""
    given = user_db.get("device")
    if not isinstance(given, Mapping):
        raise ConfigError("the user database needs a [device] table")
    device = copy.deepcopy(_DEVICE_DEFAULTS)
    for key, value in given.items():
        if key not in device:
            raise ConfigError(f"unknown device field {key!r}", field=f"device.{key}")
        device[key] = copy.deepcopy(value)
    device["active_apn_settings"] = {**_DEFAULT_APN, **dict(device["active_apn_settings"])}
    for name, app in list(device["app_statuses"].items()):
        permissions = {p: False for p in _PERMISSIONS} | dict(app.get("permissions") or {})
        device["app_statuses"][name] = {"app_name": app.get("app_name", name)} | {
            "permissions": permissions
        }
    surroundings = copy.deepcopy(_SURROUNDINGS) | copy.deepcopy(
        dict(user_db.get("surroundings") or {})
    )
    return {"device": device, "surroundings": surroundings}


class _Shared(Environment):
    """One side of the telecom state: a failed write is undone in place, so both sides
    keep holding the same state object, and both are brought in step after each call."""

    _partner: Environment | None = None

    def _restore(self, before: bytes | None) -> None:
        if before is not None and pickle.dumps(self.state, pickle.HIGHEST_PROTOCOL) != before:
            restored = pickle.loads(before)
            self.state.clear()
            self.state.update(restored)

    def call(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> str:
        result = super().call(name, arguments)
        sync(self.state)
        return result

    # -- views of the state shared by both sides --------------------------------------

    @property
    def device(self) -> dict[str, Any]:
        device: dict[str, Any] = self.state["phone"]["device"]
        return device

    @property
    def surroundings(self) -> dict[str, Any]:
        surroundings: dict[str, Any] = self.state["phone"]["surroundings"]
        return surroundings


class PhoneEnv(_Shared):
    """The simulated user's phone: what they can check and change on it.

    The read tools answer in the words the phone shows; the write tools say what
    changed and end with the status bar as it is after the change.
    """

    name = "tau2-telecom-phone"
    tables = ("phone",)

    # -- the simulation ----------------------------------------------------------------

    def sim_status(self) -> str:
        return "missing" if self.device["sim_card_missing"] else str(self.device["sim_card_status"])

    def network_search(self) -> None:
        """Work out the connection from the SIM, the mode, the radios, APN and line."""
        device, around = self.device, self.surroundings
        if self.sim_status() == "active":
            device["network_connection_status"] = "connected"
            mode = device["network_mode_preference"]
            signals = around["signal_strength"]
            if mode == "4g_5g_preferred" and signals.get("5G", "none") != "none":
                tech = "5G"
            else:
                tech = _MODE_TECH.get(mode, "4G")
            device["network_technology_connected"] = tech
            device["network_signal_strength"] = signals.get(tech, "none")
        else:
            self._no_service()
        if (
            device["airplane_mode"]
            or device["active_apn_settings"]["apn_name"] == "broken"
            or not around["line_active"]
        ):
            self._no_service()

    def _no_service(self) -> None:
        self.device["network_connection_status"] = "no_service"
        self.device["network_technology_connected"] = "none"
        self.device["network_signal_strength"] = "none"

    def mobile_data_working(self) -> bool:
        device, around = self.device, self.surroundings
        if device["airplane_mode"] or device["network_signal_strength"] == "none":
            return False
        if device["network_connection_status"] == "no_service":
            return False
        if around["is_abroad"] and not (device["roaming_enabled"] and around["roaming_allowed"]):
            return False
        return bool(device["data_enabled"]) and not around["mobile_data_usage_exceeded"]

    def speed(self) -> tuple[float | None, str]:
        """The speed test's figure in Mbps and its description (``None``: no connection)."""
        if not self.mobile_data_working():
            return None, "No Connection"
        device = self.device
        factor = 1.0
        vpn = device.get("vpn_details") or {}
        if device["vpn_connected"] and vpn.get("server_performance") == "poor":
            factor = 0.1
        if device["data_saver_mode"]:
            factor *= 0.2
        low, high = _SPEED_RANGE.get(device["network_technology_connected"], (0.0, 0.0))
        signal = _SIGNAL_FACTOR.get(device["network_signal_strength"], 0.0)
        mbps = round((low + high) / 2.0 * signal * factor, 2)
        for limit, label in ((1, "Very Poor"), (5, "Poor"), (25, "Fair"), (100, "Good")):
            if mbps < limit:
                return mbps, label
        return mbps, "Excellent"

    def mms_working(self) -> bool:
        device = self.device
        if not self.mobile_data_working() or device["network_technology_connected"] == "2G":
            return False
        if device["wifi_calling_enabled"] and device["wifi_calling_mms_over_wifi"]:
            return False
        if device["active_apn_settings"].get("mmsc_url") is None:
            return False
        app = device["app_statuses"].get("messaging")
        return app is not None and bool(
            app["permissions"].get("storage") and app["permissions"].get("sms")
        )

    def status_bar(self) -> str:
        device = self.device
        shown: list[str] = []
        if device["airplane_mode"]:
            shown.append("✈️ Airplane Mode")
        else:
            shown.append(_SIGNAL_BAR.get(device["network_signal_strength"], "📵 No Signal"))
            tech = device["network_technology_connected"]
            if tech != "none":
                shown.append(tech)
            if device["data_enabled"] and tech != "none":
                shown.append("📱 Data Enabled")
                if device["data_saver_mode"]:
                    shown.append("🔽 Data Saver")
            else:
                shown.append("📵 Data Disabled")
        if device["wifi_enabled"] and device["wifi_connected"]:
            ssid = device.get("wifi_ssid")
            shown.append(f"📡 Connected to {ssid}" if ssid else "📡 Enabled")
        if device["vpn_connected"]:
            shown.append("🔒 VPN Connected")
        shown.append(f"🔋 {device['battery_level']}%")
        return " | ".join(shown)

    def _after(self, update: str) -> str:
        return f"{update}\nStatus Bar: {self.status_bar()}"

    def _toggle(self, key: str, *, search: bool = True) -> bool:
        self.device[key] = not self.device[key]
        if search:
            self.network_search()
        return bool(self.device[key])

    def _flip_airplane(self) -> bool:
        device = self.device
        turning_on = not device["airplane_mode"]
        device["airplane_mode"] = turning_on
        if not turning_on:
            device["network_connection_status"] = "searching"
        if turning_on or device["wifi_enabled"]:
            device["wifi_connected"] = False
            device["wifi_ssid"] = None
            device["wifi_signal_strength"] = "none"
        if turning_on and device["vpn_connected"]:
            device["vpn_connected"] = False
            device["vpn_details"] = None
        self.network_search()
        return turning_on

    # -- read tools --------------------------------------------------------------------

    @tool
    def check_status_bar(self) -> str:
        """Show the icons in the phone's status bar: signal, network type, mobile data,
        data saver, Wi-Fi, VPN and battery."""
        return f"Status Bar: {self.status_bar()}"

    @tool
    def check_network_status(self) -> str:
        """Show the phone's connection: airplane mode, SIM, cellular connection, signal,
        network type, mobile data, data roaming and Wi-Fi."""
        device = self.device
        lines = [
            f"Airplane Mode: {'ON' if device['airplane_mode'] else 'OFF'}",
            f"SIM Card Status: {self.sim_status()}",
            f"Cellular Connection: {device['network_connection_status']}",
            f"Cellular Signal: {device['network_signal_strength']}",
            f"Cellular Network Type: {device['network_technology_connected']}",
            f"Mobile Data Enabled: {'Yes' if device['data_enabled'] else 'No'}",
            f"Data Roaming Enabled: {'Yes' if device['roaming_enabled'] else 'No'}",
            f"Wi-Fi Radio: {'ON' if device['wifi_enabled'] else 'OFF'}",
            f"Wi-Fi Connected: {'Yes' if device['wifi_connected'] else 'No'}",
        ]
        if device["wifi_connected"]:
            lines.append(f"Connected Wi-Fi Network: {device['wifi_ssid']}")
        return "\n".join(lines)

    @tool
    def check_network_mode_preference(self) -> str:
        """Show which type of cellular network the phone prefers (5G, 4G, 3G, 2G)."""
        return f"Network Mode Preference: {self.device['network_mode_preference']}"

    @tool
    def run_speed_test(self) -> str:
        """Measure the mobile data download speed and say what it is good for."""
        mbps, label = self.speed()
        if mbps is None:
            return f"Speed test failed: {label}."
        return f"Speed Test Result: {mbps:.2f} Mbps ({label}). {_SPEED_ADVICE[label]}"

    @tool
    def check_sim_status(self) -> str:
        """Show whether the SIM card is active, missing, or locked with a PIN or PUK."""
        status = self.sim_status()
        return _SIM_TEXT.get(status, f"Unknown SIM status: {status}")

    @tool
    def check_data_restriction_status(self) -> str:
        """Show whether Data Saver mode limits the phone's data."""
        if self.device["data_saver_mode"]:
            return "Data Saver mode is ON (limits data usage)."
        return "Data Saver mode is OFF."

    @tool
    def check_apn_settings(self) -> str:
        """Show the APN the phone uses for mobile data and the MMSC URL for picture
        messages."""
        apn = self.device["active_apn_settings"]
        return (
            f"Current APN Name: {apn.get('apn_name') or 'Not Set'}\n"
            f"MMSC URL (for picture messages): {apn.get('mmsc_url') or 'Not Set'}\n"
            "(These are technical settings, usually best left unchanged.)"
        )

    @tool
    def check_wifi_status(self) -> str:
        """Show whether Wi-Fi is on, which network it is connected to, and its signal."""
        device = self.device
        if not device["wifi_enabled"]:
            return "Wi-Fi is turned OFF."
        if device["wifi_connected"]:
            return (
                f"Wi-Fi is ON and connected to '{device['wifi_ssid']}'. "
                f"Signal strength: {device['wifi_signal_strength']}."
            )
        return "Wi-Fi is ON but not connected to any network."

    @tool
    def check_wifi_calling_status(self) -> str:
        """Show whether Wi-Fi Calling (calls over Wi-Fi instead of cellular) is on."""
        state = "ON" if self.device["wifi_calling_enabled"] else "OFF"
        return f"Wi-Fi Calling is currently turned {state}."

    @tool
    def check_vpn_status(self) -> str:
        """Show whether a VPN is on and connected, with its details."""
        device = self.device
        if device["vpn_connected"]:
            details = device.get("vpn_details")
            if details:
                return f"VPN is ON and connected. Details: {details}"
            return "VPN is ON and connected (no specific details available)."
        if device["vpn_enabled_setting"]:
            return "VPN is turned ON in settings, but currently not connected."
        return "VPN is turned OFF."

    @tool
    def check_installed_apps(self) -> str:
        """List the apps installed on the phone."""
        names = ", ".join(self.device["app_statuses"])
        return f"The following apps are installed on the phone: {names}"

    @tool
    def check_app_status(self, app_name: str) -> str:
        """Show an app's status: the permissions it has.

        Args:
            app_name: The app's name, such as 'messaging'.
        """
        app = self.device["app_statuses"].get(app_name)
        if app is None:
            return f"App '{app_name}' not found on this phone."
        granted = [name.replace("_", " ").lower() for name, on in app["permissions"].items() if on]
        lines = [f"Status for App: {app_name}"]
        if granted:
            lines.append(" - Permissions Granted:")
            lines.extend(f"   - {name}" for name in granted)
        else:
            lines.append(" - Permissions: None granted.")
        return "\n".join(lines)

    @tool
    def check_app_permissions(self, app_name: str) -> str:
        """Show which permissions an app has (storage, sms, phone, network).

        Args:
            app_name: The app's name, such as 'messaging'.
        """
        app = self.device["app_statuses"].get(app_name)
        if app is None:
            return f"App '{app_name}' not found on this phone."
        granted = [name.replace("_", " ").lower() for name, on in app["permissions"].items() if on]
        if not granted:
            return f"App '{app_name}' currently has no permissions granted."
        return f"App '{app_name}' has permission for: {', '.join(granted)}."

    @tool
    def can_send_mms(self) -> str:
        """Check whether the messaging app can send MMS (picture) messages."""
        if self.mms_working():
            return "Your messaging app can send MMS messages."
        return "Your messaging app cannot send MMS messages."

    @tool
    def check_payment_request(self) -> str:
        """Check whether the agent has sent a payment request."""
        request = self.surroundings.get("payment_request")
        if request is None:
            return "No payment request has been made."
        return (
            f"You have a payment request for bill {request['bill_id']} of "
            f"{request['amount_due']} USD."
        )

    # -- write tools -------------------------------------------------------------------

    @tool(writes=True)
    def set_network_mode_preference(self, mode: str) -> str:
        """Choose the type of cellular network the phone prefers. Faster networks (4G,
        5G) may use more battery.

        Args:
            mode: One of '4g_5g_preferred', '4g_only', '3g_only', '2g_only'.
        """
        if mode not in NETWORK_MODES:
            return self._after(
                f"Failed to set network mode: '{mode}' is not a valid option. Please use one "
                f"of: {', '.join(NETWORK_MODES)}"
            )
        self.device["network_mode_preference"] = mode
        self.network_search()
        return self._after(f"Preferred Network Mode set to: {mode}")

    @tool(writes=True)
    def toggle_airplane_mode(self) -> str:
        """Turn Airplane Mode on or off. On, it cuts every radio: cellular, Wi-Fi,
        Bluetooth."""
        on = self._flip_airplane()
        return self._after(f"Airplane Mode is now {'ON' if on else 'OFF'}.")

    @tool(writes=True)
    def reseat_sim_card(self) -> str:
        """Take the SIM card out and put it back in."""
        self.device["sim_card_missing"] = False
        self.network_search()
        return self._after("SIM card re-seated successfully.")

    @tool(writes=True)
    def toggle_data(self) -> str:
        """Turn mobile data on or off."""
        on = self._toggle("data_enabled")
        return self._after(f"Mobile Data is now {'ON' if on else 'OFF'}.")

    @tool(writes=True)
    def toggle_roaming(self) -> str:
        """Turn data roaming on or off: on, the phone may use networks outside the
        carrier's coverage."""
        on = self._toggle("roaming_enabled")
        return self._after(f"Data Roaming is now {'ON' if on else 'OFF'}.")

    @tool(writes=True)
    def toggle_data_saver_mode(self) -> str:
        """Turn Data Saver mode on or off: on, it saves data and may slow it down."""
        on = self._toggle("data_saver_mode", search=False)
        return self._after(f"Data Saver Mode is now {'ON' if on else 'OFF'}.")

    @tool(writes=True)
    def set_apn_settings(self, apn_settings: ApnSettings) -> str:
        """Set the phone's APN settings; a field left out takes the carrier's default.

        Args:
            apn_settings: The settings: 'apn_name' ('internet'), 'mms_apn', 'mmsc_url',
                'mms_proxy', 'mms_port', 'reset_at_reboot'.
        """
        settings = {**_DEFAULT_APN, **dict(apn_settings)}
        if settings["apn_name"] not in APN_NAMES:
            raise ToolError(f"apn_name: input should be {' or '.join(repr(n) for n in APN_NAMES)}")
        self.device["active_apn_settings"] = settings
        self.network_search()
        return self._after(f"APN settings set to: {settings['apn_name']}")

    @tool(writes=True)
    def reset_apn_settings(self) -> str:
        """Reset the APN settings to the carrier's defaults (applied at the next reboot)."""
        self.device["active_apn_settings"]["reset_at_reboot"] = True
        self.network_search()
        return self._after("APN settings will reset at reboot.")

    @tool(writes=True)
    def toggle_wifi(self) -> str:
        """Turn the Wi-Fi radio on or off."""
        device = self.device
        if device["airplane_mode"]:
            return self._after("Cannot change Wi-Fi settings while Airplane Mode is ON.")
        device["wifi_enabled"] = not device["wifi_enabled"]
        if not device["wifi_enabled"]:
            device["wifi_connected"] = False
            device["wifi_ssid"] = None
            device["wifi_signal_strength"] = "none"
        return self._after(f"Wi-Fi is now {'ON' if device['wifi_enabled'] else 'OFF'}.")

    @tool(writes=True)
    def toggle_wifi_calling(self) -> str:
        """Turn Wi-Fi Calling on or off."""
        on = self._toggle("wifi_calling_enabled", search=False)
        return self._after(f"Wi-Fi Calling is now {'ON' if on else 'OFF'}.")

    @tool(writes=True)
    def connect_vpn(self) -> str:
        """Connect the VPN."""
        if self.device["vpn_connected"]:
            return "VPN already connected."
        self.device["vpn_connected"] = True
        self.device["vpn_details"] = dict(_VPN)
        return self._after("VPN connected successfully.")

    @tool(writes=True)
    def disconnect_vpn(self) -> str:
        """Disconnect the VPN, if one is connected."""
        if not self.device["vpn_connected"]:
            return self._after("No active VPN connection to disconnect.")
        self.device["vpn_connected"] = False
        self.device["vpn_details"] = None
        return self._after("VPN disconnected successfully.")

    @tool(writes=True)
    def grant_app_permission(self, app_name: str, permission: str) -> str:
        """Give an app a permission it needs.

        Args:
            app_name: The app's name, such as 'messaging'.
            permission: The permission, in lower case, such as 'storage' or 'sms'.
        """
        app = self.device["app_statuses"].get(app_name)
        permission = permission.lower()
        if app is None:
            message = f"Error. App '{app_name}' not found. Cannot grant permission."
        elif permission not in app["permissions"]:
            message = (
                f"Error. Permission '{permission}' not tracked for app '{app_name}', "
                f"available permissions: {list(app['permissions'])}"
            )
        else:
            app["permissions"][permission] = True
            message = f"Success. Permission '{permission}' granted to app '{app_name}'."
        return self._after(message)

    @tool(writes=True)
    def reboot_device(self) -> str:
        """Restart the phone: services and connections start afresh."""
        lines = []
        if self.device["active_apn_settings"].get("reset_at_reboot"):
            lines.append("Resetting APN settings...")
            self.device["active_apn_settings"] = dict(_DEFAULT_APN)
        lines.append("Restarting network services...")
        self.device["network_connection_status"] = "searching"
        self.network_search()
        return self._after("\n".join(lines))

    @tool(writes=True)
    def make_payment(self) -> str:
        """Pay the bill of the payment request the agent sent."""
        request = self.surroundings.get("payment_request")
        if request is None:
            return "You do not have a payment request."
        request["paid"] = True
        return (
            f"Payment of {request['amount_due']} USD has been made for bill {request['bill_id']}."
        )

    # -- set-up functions (a task's initialisation; not tools) ------------------------

    def set_user_info(self, name: str, phone_number: str) -> None:
        self.surroundings["name"] = name
        self.surroundings["phone_number"] = phone_number

    def set_user_location(self, abroad: bool) -> None:
        self.surroundings["is_abroad"] = abroad

    def turn_airplane_mode_on(self) -> None:
        if not self._flip_airplane():
            self._flip_airplane()

    def turn_airplane_mode_off(self) -> None:
        if self._flip_airplane():
            self._flip_airplane()

    def _force(self, key: str, value: bool, *, search: bool = True) -> None:
        if self._toggle(key, search=search) != value:
            self._toggle(key, search=search)

    def turn_data_off(self) -> None:
        self._force("data_enabled", False)

    def turn_roaming_on(self) -> None:
        self._force("roaming_enabled", True)

    def turn_roaming_off(self) -> None:
        self._force("roaming_enabled", False)

    def turn_data_saver_mode_on(self) -> None:
        self._force("data_saver_mode", True, search=False)

    def unseat_sim_card(self) -> None:
        self.device["sim_card_missing"] = True
        self.network_search()

    def lock_sim_card(self, mode: Literal["pin", "puk"]) -> None:
        self.device["sim_card_status"] = f"locked_{mode}"
        self.network_search()

    def break_apn_settings(self) -> None:
        self.device["active_apn_settings"]["apn_name"] = "broken"
        self.network_search()

    def break_apn_mms_setting(self) -> None:
        self.device["active_apn_settings"]["mmsc_url"] = None

    def break_vpn(self) -> None:
        if not self.device["vpn_connected"]:
            self.device["vpn_connected"] = True
            self.device["vpn_details"] = dict(_VPN)
        self.device["vpn_details"]["server_performance"] = "poor"

    def remove_app_permission(self, app_name: str, permission: str) -> None:
        app = self.device["app_statuses"].get(app_name)
        if app is None or permission.lower() not in app["permissions"]:
            raise ToolError(f"no permission {permission!r} of app {app_name!r} to remove")
        app["permissions"][permission.lower()] = False

    def set_wifi_calling(self, enabled: bool, mms_over_wifi: bool | None = None) -> None:
        self.device["wifi_calling_enabled"] = enabled
        if mms_over_wifi is not None:
            self.device["wifi_calling_mms_over_wifi"] = mms_over_wifi

    def simulate_network_search(self) -> None:
        self.network_search()

    # -- assertions on the final state ------------------------------------------------

    def assert_service_status(self, expected_status: str) -> bool:
        return bool(self.device["network_connection_status"] == expected_status)

    def assert_mobile_data_status(self, expected_status: bool) -> bool:
        return self.mobile_data_working() == expected_status

    def assert_internet_speed(
        self, expected_speed: float, expected_desc: str | None = None
    ) -> bool:
        mbps, label = self.speed()
        fast_enough = (mbps or 0.0) >= expected_speed
        return fast_enough and (expected_desc is None or label.lower() == expected_desc.lower())

    def assert_internet_not_excellent(self) -> bool:
        return self.speed()[1] != "Excellent"

    def assert_can_send_mms(self, expected_status: bool) -> bool:
        return self.mms_working() == expected_status

    def assert_airplane_mode_status(self, expected_status: bool) -> bool:
        return bool(self.device["airplane_mode"] == expected_status)

    def assert_mobile_roaming_status(self, expected_status: bool) -> bool:
        return bool(self.device["roaming_enabled"] == expected_status)

    def assert_mobile_data_saver_mode_status(self, expected_status: bool) -> bool:
        return bool(self.device["data_saver_mode"] == expected_status)

    # -- for the simulated user --------------------------------------------------------

    def requested_calls(self, text: str) -> list[tuple[str, dict[str, Any]]]:
        """The phone actions a message of the agent asks this user to take, in the order
        asked (see ``phone_requests``)."""
        return phone_requests(text, self)

    goal: str = "service"
    """What the user called about (``service``, ``mobile_data``, ``mms``), set by the task."""

    def resolved_by(self, name: str, result: str) -> bool:
        """Whether what a call of the user's showed settles what they called about: the
        speed test excellent, an MMS that can be sent, a status bar with service."""
        if self.goal == "mms":
            return name == "can_send_mms" and result.startswith("Your messaging app can ")
        if self.goal == "mobile_data":
            return name == "run_speed_test" and "(Excellent)" in result
        if "Status Bar:" not in result:
            return False
        bar = result.split("Status Bar:", 1)[1]
        return "No Signal" not in bar and "Airplane Mode" not in bar


# -- the carrier's side ------------------------------------------------------------------


def sync(state: dict[str, Any]) -> None:
    """Bring the phone's surroundings in step with the carrier's database (after each call)."""
    around = state["phone"]["surroundings"]
    number = around.get("phone_number")
    if number is None:
        return
    line = next((row for row in state["lines"].values() if row["phone_number"] == number), None)
    if line is None:
        raise ConfigError(f"no line has the user's phone number {number}")
    around["line_active"] = line["status"] == "Active"
    around["roaming_allowed"] = bool(line["roaming_enabled"])
    plan = state["plans"].get(line["plan_id"])
    if plan is None:
        raise ConfigError(f"line {line['line_id']} has an unknown plan {line['plan_id']}")
    allowance = plan["data_limit_gb"] + line["data_refueling_gb"]
    around["mobile_data_usage_exceeded"] = line["data_used_gb"] >= allowance
    request = around.get("payment_request")
    if request is not None and request.get("paid"):
        bill = state["bills"].get(request["bill_id"])
        if bill is not None:
            bill["status"] = "Paid"
        around["payment_request"] = None
    if around.get("payment_request") is None:
        customer = _customer_of_number(state, number)
        if customer is not None:
            for bill_id in customer["bill_ids"]:
                bill = state["bills"].get(bill_id)
                if bill is not None and bill["status"] == "Awaiting Payment":
                    around["payment_request"] = {
                        "bill_id": bill_id,
                        "amount_due": bill["total_due"],
                        "paid": False,
                    }
                    break


def same_number(stored: str, given: str) -> bool:
    """Whether ``given`` is the phone number ``stored``: written the same, or as its
    digits alone (``5551232002`` for ``555-123-2002``)."""
    if given == stored:
        return True
    return re.fullmatch(r"[0-9]+", given) is not None and given == re.sub(r"[^0-9]", "", stored)


def _customer_of_number(state: Mapping[str, Any], number: str) -> Any:
    for customer in state["customers"].values():
        if same_number(customer["phone_number"], number):
            return customer
        for line_id in customer["line_ids"]:
            line = state["lines"].get(line_id)
            if line is not None and same_number(line["phone_number"], number):
                return customer
    return None


def _dump(value: Any) -> str:
    return json.dumps(value, default=str)


class TelecomEnv(_Shared):
    """The carrier's support desk; the caller's phone is ``user_side`` (a ``PhoneEnv``)."""

    name = "tau2-telecom"
    tables = (*AGENT_TABLES, "phone")
    stop_tools = frozenset({"transfer_to_human_agents"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phone = PhoneEnv(self.state, copy_state=False)
        self.user_side = self.phone
        self.policy_notes: list[PolicyViolation] = []
        sync(self.state)

    # -- helpers -----------------------------------------------------------------------

    def _customer(self, customer_id: str) -> Any:
        customer = self.state["customers"].get(customer_id)
        if customer is None:
            raise ToolError(f"Customer with ID {customer_id} not found")
        return customer

    def _line_of(self, customer_id: str, line_id: str) -> Any:
        customer = self._customer(customer_id)
        if line_id not in customer["line_ids"]:
            raise ToolError(f"Line {line_id} not found for customer {customer_id}")
        return self._get("lines", line_id, "Line")

    def _get(self, table: str, key: str, what: str) -> Any:
        row = self.state[table].get(key)
        if row is None:
            raise ToolError(f"{what} with ID {key} not found")
        return row

    def _note(self, rule: str, message: str, tool_name: str) -> None:
        self.policy_notes.append(
            PolicyViolation(rule=rule, message=message, call_index=len(self.calls), tool=tool_name)
        )

    def _charge(self, customer_id: str, amount: float, description: str) -> None:
        """Add a line item to the customer's draft bill (made, for next month, if none)."""
        customer = self._customer(customer_id)
        bills = self.state["bills"]
        draft = next(
            (bills[b] for b in customer["bill_ids"] if bills.get(b, {}).get("status") == "Draft"),
            None,
        )
        if draft is None:
            start = (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            seed = f"{customer_id}:{len(bills)}".encode()
            bill_id = "B" + hashlib.sha256(seed).hexdigest()[:8]
            draft = {
                "bill_id": bill_id,
                "customer_id": customer_id,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "issue_date": start.isoformat(),
                "total_due": 0,
                "due_date": (start + timedelta(days=14)).isoformat(),
                "status": "Draft",
                "line_items": [],
            }
            bills[bill_id] = draft
            customer["bill_ids"].append(bill_id)
        draft["line_items"].append(
            {
                "description": description,
                "amount": amount,
                "date": TODAY.isoformat(),
                "item_type": "Credit" if amount < 0 else "Charge",
            }
        )
        draft["total_due"] += amount

    # -- read tools --------------------------------------------------------------------

    @tool
    def get_customer_by_phone(self, phone_number: str) -> str:
        """Find a customer by their contact number or the number of one of their lines.

        Args:
            phone_number: The phone number, such as '555-123-2002'.
        """
        # the digits alone ('5551232002') find the same customer (see same_number)
        customer = _customer_of_number(self.state, phone_number)
        if customer is None:
            raise ToolError(f"Customer with phone number {phone_number} not found")
        return _dump(customer)

    @tool
    def get_customer_by_id(self, customer_id: str) -> str:
        """Get a customer by their id.

        Args:
            customer_id: The customer's id, such as 'C1001'.
        """
        return _dump(self._customer(customer_id))

    @tool
    def get_customer_by_name(self, full_name: str, dob: str) -> str:
        """Find the customers with this full name and date of birth.

        Args:
            full_name: The customer's full name.
            dob: The date of birth, 'YYYY-MM-DD'.
        """
        return _dump(
            [
                c
                for c in self.state["customers"].values()
                if c["full_name"] == full_name and c["date_of_birth"] == dob
            ]
        )

    @tool
    def get_details_by_id(self, id: str) -> str:
        """Get a customer, line, device, bill or plan by its id.

        Args:
            id: The id: 'C…' customer, 'L…' line, 'D…' device, 'B…' bill, 'P…' plan.
        """
        tables = {"L": "lines", "D": "devices", "B": "bills", "C": "customers", "P": "plans"}
        table = tables.get(id[:1])
        if table is None:
            raise ToolError(f"Unknown ID format or type: {id}")
        if table == "customers":
            return _dump(self._customer(id))
        what = {"lines": "Line", "devices": "Device", "bills": "Bill", "plans": "Plan"}[table]
        return _dump(self._get(table, id, what))

    @tool
    def get_bills_for_customer(self, customer_id: str, limit: int = 12) -> str:
        """Get a customer's bills, the most recent first.

        Args:
            customer_id: The customer's id.
            limit: How many bills at most.
        """
        customer = self._customer(customer_id)
        bills = [self._get("bills", b, "Bill") for b in customer["bill_ids"]]
        bills.sort(key=lambda bill: str(bill["issue_date"]), reverse=True)
        return _dump(bills[: max(limit, 0)])

    @tool
    def get_data_usage(self, customer_id: str, line_id: str) -> str:
        """Get a line's data use in this billing cycle: used, limit, refuelled, cycle end.

        Args:
            customer_id: The id of the customer who owns the line.
            line_id: The line's id.
        """
        line = self._line_of(customer_id, line_id)
        plan = self._get("plans", line["plan_id"], "Plan")
        cycle_end = (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return _dump(
            {
                "line_id": line_id,
                "data_used_gb": line["data_used_gb"],
                "data_limit_gb": plan["data_limit_gb"],
                "data_refueling_gb": line["data_refueling_gb"],
                "cycle_end_date": cycle_end.isoformat(),
            }
        )

    # -- write tools -------------------------------------------------------------------

    @tool(writes=True)
    def suspend_line(self, customer_id: str, line_id: str, reason: str) -> str:
        """Suspend an active line (at most six months; a holding fee applies).

        Args:
            customer_id: The id of the customer who owns the line.
            line_id: The line's id.
            reason: Why the line is suspended.
        """
        line = self._line_of(customer_id, line_id)
        if line["status"] != "Active":
            raise ToolError("Line must be active to suspend")
        line["status"] = "Suspended"
        line["suspension_start_date"] = TODAY.isoformat()
        return _dump(
            {
                "message": "Line suspended successfully. $5/month holding fee will apply.",
                "line": line,
            }
        )

    @tool(writes=True)
    def resume_line(self, customer_id: str, line_id: str) -> str:
        """Resume a suspended line (or one pending activation).

        Args:
            customer_id: The id of the customer who owns the line.
            line_id: The line's id.
        """
        line = self._line_of(customer_id, line_id)
        if line["status"] not in ("Suspended", "Pending Activation"):
            raise ToolError("Line must be suspended to resume")
        customer = self._customer(customer_id)
        unpaid = [
            b
            for b in customer["bill_ids"]
            if self.state["bills"].get(b, {}).get("status") in ("Overdue", "Awaiting Payment")
        ]
        if unpaid:
            self._note(
                "resume-after-payment",
                f"line {line_id} resumed with bill(s) {', '.join(unpaid)} unpaid",
                "resume_line",
            )
        if str(line.get("contract_end_date", "9999")) < TODAY.isoformat():
            self._note(
                "no-resume-after-contract-end",
                f"line {line_id} resumed although its contract ended {line['contract_end_date']}",
                "resume_line",
            )
        line["status"] = "Active"
        line["suspension_start_date"] = None
        return _dump({"message": "Line resumed successfully", "line": line})

    @tool(writes=True)
    def send_payment_request(self, customer_id: str, bill_id: str) -> str:
        """Send the customer a payment request for a bill (it does not check that the
        bill is overdue: check first).

        Args:
            customer_id: The id of the customer who owns the bill.
            bill_id: The bill's id.
        """
        customer = self._customer(customer_id)
        bills = self.state["bills"]
        if any(bills.get(b, {}).get("status") == "Awaiting Payment" for b in customer["bill_ids"]):
            raise ToolError("A bill is already awaiting payment for this customer")
        if bill_id not in customer["bill_ids"]:
            raise ToolError(f"Bill {bill_id} not found for customer {customer_id}")
        bill = self._get("bills", bill_id, "Bill")
        if bill["status"] != "Overdue":
            self._note(
                "payment-request-for-overdue-bill",
                f"a payment request for bill {bill_id}, which is {bill['status']}, not overdue",
                "send_payment_request",
            )
        bill["status"] = "Awaiting Payment"
        return f"Payment request sent to the customer for bill {bill_id}"

    @tool(writes=True)
    def enable_roaming(self, customer_id: str, line_id: str) -> str:
        """Turn on international roaming for a line.

        Args:
            customer_id: The id of the customer who owns the line.
            line_id: The line's id.
        """
        line = self._line_of(customer_id, line_id)
        if line["roaming_enabled"]:
            return "Roaming was already enabled"
        line["roaming_enabled"] = True
        return "Roaming enabled successfully"

    @tool(writes=True)
    def disable_roaming(self, customer_id: str, line_id: str) -> str:
        """Turn off international roaming for a line.

        Args:
            customer_id: The id of the customer who owns the line.
            line_id: The line's id.
        """
        line = self._line_of(customer_id, line_id)
        if not line["roaming_enabled"]:
            return "Roaming was already disabled"
        line["roaming_enabled"] = False
        return "Roaming disabled successfully"

    @tool
    def transfer_to_human_agents(self, summary: str) -> str:
        """Hand the user to a human agent, with a summary of the issue. Only when the user
        asks for one, or the policy and tools cannot solve the issue.

        Args:
            summary: A summary of the user's issue.
        """
        return "Transfer successful"

    @tool(writes=True)
    def refuel_data(self, customer_id: str, line_id: str, gb_amount: float) -> str:
        """Add data to a line, charged to the customer's bill at the plan's price per GB.

        Args:
            customer_id: The id of the customer who owns the line.
            line_id: The line's id.
            gb_amount: How many GB to add.
        """
        line = self._line_of(customer_id, line_id)
        if gb_amount <= 0:
            raise ToolError("Refuel amount must be positive")
        if gb_amount > MAX_REFUEL_GB:
            self._note(
                "refuel-at-most-2gb",
                f"{gb_amount} GB refuelled (at most {MAX_REFUEL_GB:g} GB)",
                "refuel_data",
            )
        plan = self._get("plans", line["plan_id"], "Plan")
        price = plan["data_refueling_price_per_gb"]
        charge = gb_amount * price
        line["data_refueling_gb"] += gb_amount
        self._charge(customer_id, charge, f"Data refueling: {gb_amount} GB at ${price}/GB")
        return _dump(
            {
                "message": (
                    f"Successfully added {gb_amount} GB of data for line {line_id} for "
                    f"${charge:.2f}"
                ),
                "new_data_refueling_gb": line["data_refueling_gb"],
                "charge": charge,
            }
        )

    # -- set-up functions (a task's initialisation; not tools) ------------------------

    def set_data_usage(self, customer_id: str, line_id: str, data_used_gb: float) -> None:
        self._line_of(customer_id, line_id)["data_used_gb"] = data_used_gb

    def suspend_line_for_overdue_bill(
        self, customer_id: str, line_id: str, new_bill_id: str, contract_ended: bool
    ) -> None:
        line = self._get("lines", line_id, "Line")
        if line["status"] != "Active":
            raise ToolError("Line must be active to suspend for unpaid bill")
        plan = self._get("plans", line["plan_id"], "Plan")
        customer = self._customer(customer_id)
        bills = self.state["bills"]
        if any(bills[b]["status"] == "Overdue" for b in customer["bill_ids"] if b in bills):
            raise ToolError("Customer already has an overdue bill")
        last_day = TODAY.replace(day=1) - timedelta(days=1)
        first_day = last_day.replace(day=1)
        bills[new_bill_id] = {
            "bill_id": new_bill_id,
            "customer_id": customer_id,
            "period_start": first_day.isoformat(),
            "period_end": last_day.isoformat(),
            "issue_date": first_day.isoformat(),
            "total_due": plan["price_per_month"],
            "due_date": (first_day + timedelta(days=14)).isoformat(),
            "status": "Overdue",
            "line_items": [
                {
                    "description": f"Charge for line {line_id}",
                    "amount": plan["price_per_month"],
                    "date": TODAY.isoformat(),
                    "item_type": "Charge",
                }
            ],
        }
        customer["bill_ids"].append(new_bill_id)
        line["status"] = "Suspended"
        line["suspension_start_date"] = TODAY.isoformat()
        if contract_ended:
            line["contract_end_date"] = last_day.isoformat()

    # -- assertions on the final state ------------------------------------------------

    def assert_data_refueling_amount(
        self, customer_id: str, line_id: str, expected_amount: float
    ) -> bool:
        line = self._line_of(customer_id, line_id)
        return bool(abs(line["data_refueling_gb"] - expected_amount) < 1e-6)

    def assert_line_status(self, customer_id: str, line_id: str, expected_status: str) -> bool:
        return bool(self._line_of(customer_id, line_id)["status"] == expected_status)

    def assert_no_overdue_bill(self, overdue_bill_id: str) -> bool:
        bill = self.state["bills"].get(overdue_bill_id)
        return bill is None or bill["status"] == "Paid"

    def assert_overdue_bill_exists(self, customer_id: str, overdue_bill_id: str) -> bool:
        customer = self._customer(customer_id)
        bill = self.state["bills"].get(overdue_bill_id)
        return (
            overdue_bill_id in customer["bill_ids"]
            and bill is not None
            and bill["status"] == "Overdue"
        )

    # -- a task ------------------------------------------------------------------------

    def side(self, env_type: str) -> _Shared:
        """The agent's side (``assistant``) or the user's (``user``)."""
        return self.phone if env_type == "user" else self

    def start(self, task: EnvTask) -> None:
        """Run the task's initialisation actions (set-up functions of either side)."""
        criteria = Tau2Criteria.of(task)
        self.phone.goal = criteria.goal
        for step in criteria.initialization_actions:
            run_function(self.side(step.env_type), step.func_name, step.arguments, task=task.id)
            sync(self.state)

    def score_task(
        self,
        task: EnvTask,
        expected: Environment,
        assistant_messages: Sequence[str],
        *,
        judged: JudgedAssertions | None = None,
    ) -> EnvScore:
        return score_tau2(task, self, expected, assistant_messages, judged=judged)


# -- set-up and assertion functions by name ---------------------------------------------

_SETUP: dict[str, frozenset[str]] = {
    "assistant": frozenset(
        {"set_data_usage", "suspend_line_for_overdue_bill", "enable_roaming", "disable_roaming"}
    ),
    "user": frozenset(
        {
            "set_user_info",
            "set_user_location",
            "turn_airplane_mode_on",
            "turn_airplane_mode_off",
            "turn_data_off",
            "turn_roaming_on",
            "turn_roaming_off",
            "turn_data_saver_mode_on",
            "unseat_sim_card",
            "lock_sim_card",
            "break_apn_settings",
            "break_apn_mms_setting",
            "break_vpn",
            "remove_app_permission",
            "set_wifi_calling",
            "set_network_mode_preference",
            "simulate_network_search",
        }
    ),
}


def _functions(side: str, prefix: str) -> frozenset[str]:
    cls = PhoneEnv if side == "user" else TelecomEnv
    return frozenset(n for n in dir(cls) if n.startswith(prefix) and callable(getattr(cls, n)))


def run_function(env: _Shared, name: str, arguments: Mapping[str, Any], *, task: str) -> Any:
    """Call a set-up or assertion function of ``env`` by name; a ConfigError naming the
    task if it is not one or its arguments do not fit."""
    side = "user" if isinstance(env, PhoneEnv) else "assistant"
    allowed = _SETUP[side] | _functions(side, "assert_")
    if name not in allowed:
        raise ConfigError(f"task {task!r}: {name!r} is not a {side}-side set-up or assertion")
    try:
        return getattr(env, name)(**dict(arguments))
    except (TypeError, ToolError, KeyError) as exc:
        raise ConfigError(f"task {task!r}: {name}({dict(arguments)}) failed: {exc}") from exc


# -- the τ² task format -------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class EnvFunctionCall(_Model):
    """A set-up or assertion function of one side: ``{env_type, func_name, arguments}``."""

    env_type: Literal["user", "assistant"]
    func_name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)


class EnvAssertion(EnvFunctionCall):
    assert_value: bool = True
    message: str | None = None


Basis = Literal["DB", "ENV_ASSERTION", "COMMUNICATE", "NL_ASSERTION", "ACTION"]


class Tau2Criteria(_Model):
    """What a τ² task starts from and how it is judged (kept in the task's metadata)."""

    initialization_actions: tuple[EnvFunctionCall, ...] = ()
    env_assertions: tuple[EnvAssertion, ...] = ()
    communicate_info: tuple[str, ...] = ()
    nl_assertions: tuple[str, ...] = ()
    """Statements about the conversation a judge model rules on (``NL_ASSERTION``)."""
    reward_basis: tuple[Basis, ...] = ("DB", "COMMUNICATE")
    goal: str = "service"
    """What the user called about (``service``, ``mobile_data``, ``mms``): when it works
    again, they are done."""

    @field_validator("nl_assertions")
    @classmethod
    def _judgeable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # each becomes one must-have of a judge's checklist: non-empty, distinct, ≤ 20
        cleaned = tuple(" ".join(text.split()) for text in value)
        if any(not text for text in cleaned):
            raise ValueError("an assertion is empty")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("an assertion is repeated")
        if len(cleaned) > 20:
            raise ValueError(f"at most 20 can be judged (got {len(cleaned)})")
        return cleaned

    @property
    def judged_assertions(self) -> tuple[str, ...]:
        """The NL assertions a judge must rule on: those of a reward basis with
        ``NL_ASSERTION`` (none otherwise: they would not change the reward)."""
        return self.nl_assertions if "NL_ASSERTION" in self.reward_basis else ()

    @classmethod
    def of(cls, task: EnvTask) -> Tau2Criteria:
        return cls.model_validate(task.metadata.get("tau2") or {})


def _nl_criterion(criteria: Tau2Criteria, judged: JudgedAssertions | None) -> dict[str, Any]:
    """The ``NL_ASSERTION`` entry of a score: each assertion with its outcome (met, not
    met, abstained, not judged), the judge's reason and reply."""
    wanted = criteria.judged_assertions
    if judged is None or not wanted:
        why = (
            "not judged: NL_ASSERTION is not in the reward basis"
            if not wanted
            else "not judged: no judge was configured (the run config's judge: section)"
        )
        verdicts = [
            AssertionVerdict(assertion=text, outcome="not judged", reason=why)
            for text in criteria.nl_assertions
        ]
        return {
            "passed": False,
            "judged": False,
            "reason": why,
            "assertions": [v.to_dict() for v in verdicts],
        }
    if [v.assertion for v in judged.verdicts] != list(wanted):
        raise ValueError("the judged assertions are not the task's NL assertions")
    entry: dict[str, Any] = {
        "passed": judged.passed,
        "judged": True,
        "judge": judged.judge,
        "model": judged.model,
        "assertions": [v.to_dict() for v in judged.verdicts],
    }
    if judged.error is not None:
        entry["error"] = judged.error
    return entry


def _matches(action: Action, call: ToolCallRecord) -> bool:
    if call.name != action.name or not isinstance(call.arguments, dict):
        return False
    keys = action.arguments.keys() if action.compare_args is None else action.compare_args
    return all(call.arguments.get(k) == action.arguments.get(k) for k in keys)


def score_tau2(
    task: EnvTask,
    final: TelecomEnv,
    expected: Environment,
    assistant_messages: Sequence[str],
    *,
    judged: JudgedAssertions | None = None,
) -> EnvScore:
    """The τ² verdict: the product of the criteria in the task's reward basis.

    ``NL_ASSERTION`` takes its verdicts from ``judged`` (a judge's, over the whole
    conversation): it passes when every assertion is met, fails when one is not, and is
    unknown (``passed`` None) when the judge abstained on one and none was found unmet.
    An unknown criterion leaves the reward None (an abstention) unless another
    criterion of the basis already failed, which makes it 0. Without ``judged`` the
    assertions are recorded as not judged and the criterion fails.
    """
    criteria = Tau2Criteria.of(task)
    results: dict[str, Any] = {}
    expected_hash, actual_hash = expected.state_hash(), final.state_hash()
    results["DB"] = {"passed": expected_hash == actual_hash}
    checks = []
    for assertion in criteria.env_assertions:
        side = final.side(assertion.env_type)
        error: str | None = None
        try:
            got = bool(run_function(side, assertion.func_name, assertion.arguments, task=task.id))
        except ConfigError as exc:
            got, error = False, str(exc)
        checks.append(
            {
                "env_type": assertion.env_type,
                "func_name": assertion.func_name,
                "arguments": assertion.arguments,
                "expected": assertion.assert_value,
                "passed": got == assertion.assert_value,
                **({"error": error} if error else {}),
            }
        )
    results["ENV_ASSERTION"] = {"passed": all(c["passed"] for c in checks), "checks": checks}
    matched = []
    for action in task.actions:
        calls = final.calls if action.requestor == "assistant" else final.phone.calls
        matched.append(
            {
                "requestor": action.requestor,
                "name": action.name,
                "arguments": action.arguments,
                "passed": any(_matches(action, call) for call in calls),
            }
        )
    results["ACTION"] = {"passed": all(m["passed"] for m in matched), "actions": matched}
    missing = missing_outputs(criteria.communicate_info, assistant_messages)
    results["COMMUNICATE"] = {"passed": not missing, "missing": missing}
    if criteria.nl_assertions:
        results["NL_ASSERTION"] = _nl_criterion(criteria, judged)
    reward: float | None = 1.0
    unknown = False
    for basis in criteria.reward_basis:
        entry = results.get(basis)
        passed = True if entry is None else entry["passed"]
        if passed is None:
            unknown = True
        elif not passed:
            reward = 0.0
    if unknown and reward:
        reward = None  # what decides the reward is a judgement that could not be told
    results["reward_basis"] = list(criteria.reward_basis)
    return EnvScore(
        task_id=task.id,
        reward=reward,
        hash_match=expected_hash == actual_hash,
        expected_hash=expected_hash,
        actual_hash=actual_hash,
        missing_outputs=tuple(missing),
        diff=() if expected_hash == actual_hash else tuple(final.diff(expected)),
        violations=tuple(final.check_policy()),
        replay_errors=tuple(
            f"action {index} ({name}): {error}" for index, name, error in failed_actions(expected)
        ),
        criteria=results,
    )


# -- what the agent asks the user to do ---------------------------------------------------

_ON = (
    r"(?:turn(?:ing)?\s+(?:\w+\s+){0,4}?on|enabl\w*|switch(?:ing)?\s+(?:\w+\s+){0,4}?on|activat\w*)"
)
_OFF = r"(?:turn(?:ing)?\s+(?:\w+\s+){0,4}?off|disabl\w*|switch(?:ing)?\s+(?:\w+\s+){0,4}?off|deactivat\w*)"
_TOGGLES: tuple[tuple[str, str, str, bool], ...] = (
    # (tool, what it is called, the device field, whether "on" sets the field true)
    ("toggle_airplane_mode", r"airplane|flight mode", "airplane_mode", True),
    ("toggle_data_saver_mode", r"data[\s-]*saver", "data_saver_mode", True),
    ("toggle_wifi_calling", r"wi-?fi[\s-]*calling", "wifi_calling_enabled", True),
    ("toggle_roaming", r"(?:data\s+)?roaming", "roaming_enabled", True),
    ("toggle_data", r"mobile\s+data|cellular\s+data|\bdata\b", "data_enabled", True),
    ("toggle_wifi", r"\bwi-?fi\b(?![\s-]*calling)", "wifi_enabled", True),
)
_ACTIONS: tuple[tuple[str, str], ...] = (
    (
        "check_status_bar",
        r"status\s*bar|what (?:do|does) (?:you|your (?:phone|screen)) (?:see|show)",
    ),
    ("check_network_status", r"network\s+status|connection\s+status"),
    ("check_network_mode_preference", r"network\s+mode|network\s+(?:type\s+)?preference"),
    ("run_speed_test", r"speed\s*test|test (?:the|your) speed"),
    ("check_sim_status", r"sim(?:\s+card)?\s+status|check (?:the |your )?sim"),
    ("check_data_restriction_status", r"data\s+restriction"),
    ("check_apn_settings", r"(?:check|look at|see|what are) (?:the |your )?apn"),
    ("check_wifi_calling_status", r"wi-?fi[\s-]*calling\s+status"),
    ("check_vpn_status", r"vpn\s+status|(?:check|using|have) (?:a |the |your |any )?vpn"),
    ("check_installed_apps", r"installed\s+apps|which apps"),
    ("check_app_permissions", r"permissions?\b"),
    ("can_send_mms", r"send (?:an? )?(?:mms|picture|photo)|mms\s+(?:message\s+)?(?:now|again)"),
    ("check_payment_request", r"payment\s+request"),
    ("make_payment", r"make (?:the |a )?payment|pay (?:the|your|it|now)|accept (?:the )?payment"),
    (
        "reseat_sim_card",
        r"re-?seat|re-?insert|take (?:the |your )?sim (?:card )?out|remove (?:the |your )?sim",
    ),
    (
        "reset_apn_settings",
        r"reset (?:the |your )?apn|apn (?:settings )?(?:to|back to) (?:the )?default",
    ),
    (
        "reboot_device",
        r"re-?boot|restart (?:the |your )?(?:phone|device)|turn (?:it|the phone|your phone) off and on",
    ),
    (
        "disconnect_vpn",
        r"disconnect (?:the |your |from )?(?:the )?vpn|(?:turn|switch) off (?:the |your )?vpn",
    ),
    ("connect_vpn", r"(?<!dis)connect (?:to )?(?:the |your )?vpn"),
)
_MODE = re.compile(
    r"4g[_\s/-]*(?:and\s*)?5g|5g|4g[_\s-]*only|3g[_\s-]*only|2g[_\s-]*only|\b4g\b|\b3g\b|\b2g\b"
)
_GRANT = re.compile(
    r"\b(?:grant|allow|give|enable)\b[^.?!]*\bpermission|permission[^.?!]*\b(?:grant|allow|on)\b"
)
_CALL = re.compile(r"\b([a-z][a-z_]+)\s*\(([^()]*)\)")


def _mode_of(text: str) -> str:
    found = _MODE.search(text.lower())
    if found is None:
        return "4g_5g_preferred"
    word = re.sub(r"[\s/-]+", "_", found.group(0))
    if "only" in word:
        return word.replace("__", "_")
    return {"3g": "3g_only", "2g": "2g_only", "4g": "4g_only"}.get(word, "4g_5g_preferred")


def _arguments(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in re.findall(r"(\w+)\s*[=:]\s*['\"]?([\w./:-]+)['\"]?", text):
        found[key] = value
    return found


def phone_requests(text: str, phone: PhoneEnv) -> list[tuple[str, dict[str, Any]]]:
    """The phone tools a message asks the user to use, with their arguments.

    A tool named in the message (``toggle_airplane_mode()``,
    ``grant_app_permission(app_name="messaging", permission="sms")``) is taken as
    written. Otherwise plain requests are understood: "turn airplane mode off" toggles
    it only if it is on (a user looks before flipping a switch), "restart your phone",
    "reset the APN settings", "run a speed test", "what does your status bar show",
    "set the network mode to 4G/5G", "grant the messaging app storage permission", in a
    sentence that asks (a request, an imperative, a question to the user), not one that
    explains ("Mobile data works when airplane mode is turned off"). At most three
    requests a message.
    """
    names = set(phone.tool_names())
    found: list[tuple[int, str, dict[str, Any]]] = []
    for match in _CALL.finditer(text):
        if match.group(1) in names:
            found.append((match.start(), match.group(1), _arguments(match.group(2))))
    if not found:
        lowered = text.lower()
        for sentence_match in re.finditer(r"[^.!?\n]+[.!?]?", lowered):
            sentence, at = sentence_match.group(0), sentence_match.start()
            if _asks(sentence):
                found.extend((at + i, n, a) for i, n, a in _sentence_requests(sentence, phone))
    calls: list[tuple[str, dict[str, Any]]] = []
    for _, name, arguments in sorted(found, key=lambda item: item[0]):
        if (name, arguments) not in calls:
            calls.append((name, arguments))
    return calls[:3]


_REQUEST = re.compile(
    r"\b(?:please|can you|could you|would you|will you|try|go ahead|let's|let us|"
    r"i need you to|i'd like you to|i would like you to|you(?:'ll| will)? need to|"
    r"you should|make sure|now)\b"
)
_IMPERATIVE = re.compile(
    r"^\W*(?:(?:first|then|next|now|ok(?:ay)?|great|thanks)\W+)*(?:turn|toggle|switch|"
    r"restart|reboot|check|run|reset|re-?seat|re-?insert|remove|take|disconnect|connect|"
    r"grant|give|allow|set|change|enable|disable|open|go|look|tell|make|pay|accept|do)\b"
)


def _asks(sentence: str) -> bool:
    """Whether a sentence asks the user for something (a request, an imperative, or a
    question about their phone), not one that explains or describes."""
    text = sentence.strip()
    if _REQUEST.search(text) or _IMPERATIVE.search(text):
        return True
    return text.endswith("?") and re.search(r"\b(?:your|you)\b", text) is not None


def _sentence_requests(sentence: str, phone: PhoneEnv) -> list[tuple[int, str, dict[str, Any]]]:
    found: list[tuple[int, str, dict[str, Any]]] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in _ACTIONS:
        hit = re.search(pattern, sentence)
        if hit and not any(a <= hit.start() < b for a, b in taken):
            found.append((hit.start(), name, {}))
            taken.append(hit.span())
    if re.search(r"network\s+mode|network\s+(?:type\s+)?preference|prefer", sentence) and re.search(
        r"\b(?:set|change|switch|select|choose)\b", sentence
    ):
        found = [f for f in found if f[1] != "check_network_mode_preference"]
        found.append((0, "set_network_mode_preference", {"mode": _mode_of(sentence)}))
    if _GRANT.search(sentence):
        app = "browser" if "browser" in sentence else "messaging"
        found = [f for f in found if f[1] != "check_app_permissions"]
        for permission in _PERMISSIONS:
            if re.search(rf"\b{permission}\b", sentence):
                found.append(
                    (0, "grant_app_permission", {"app_name": app, "permission": permission})
                )
    elif any(f[1] == "check_app_permissions" for f in found):
        app = "browser" if "browser" in sentence else "messaging"
        found = [
            (i, n, {"app_name": app} if n == "check_app_permissions" else a) for i, n, a in found
        ]
    for name, what, key, _ in _TOGGLES:
        hit = re.search(what, sentence)
        if hit is None or any(a <= hit.start() < b for a, b in taken):
            continue
        taken.append(hit.span())
        wants_on = re.search(_ON, sentence) is not None
        wants_off = re.search(_OFF, sentence) is not None
        toggle = "toggl" in sentence
        if not (wants_on or wants_off or toggle):
            continue
        current = bool(phone.device.get(key))
        if (toggle and not (wants_on or wants_off)) or (
            wants_on != wants_off and current != wants_on
        ):
            found.append((hit.start(), name, {}))
    return found


# -- policy rules -------------------------------------------------------------------------

_LOOKUPS = frozenset({"get_customer_by_phone", "get_customer_by_id", "get_customer_by_name"})


def _noted(rule_id: str, description: str) -> FunctionRule:
    def check(calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]:
        ok = {call.index for call in calls if call.ok}
        notes = getattr(env, "policy_notes", [])
        return [n for n in notes if n.rule == rule_id and n.call_index in ok]

    return FunctionRule(id=rule_id, description=description, func=check)


def _own_customer(calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]:
    """Writes concern the customer who was looked up."""
    found: list[PolicyViolation] = []
    known: set[str] = set()
    for call in calls:
        if call.error or not isinstance(call.arguments, dict):
            continue
        if call.name in _LOOKUPS:
            try:
                data = json.loads(call.result)
            except json.JSONDecodeError:
                continue
            rows = data if isinstance(data, list) else [data]
            known.update(str(r.get("customer_id")) for r in rows if isinstance(r, dict))
            continue
        customer = call.arguments.get("customer_id")
        if call.writes and known and customer is not None and customer not in known:
            found.append(
                PolicyViolation(
                    rule="own-customer-only",
                    message=f"{call.name} on customer {customer!r}, not the caller "
                    f"({', '.join(sorted(known))})",
                    call_index=call.index,
                    tool=call.name,
                )
            )
    return found


TelecomEnv.policy_rules = (
    RequirePriorCall(
        id="identify-customer-first",
        description="The customer is identified (by phone, id, or name and date of birth) "
        "before any change.",
        prerequisites=_LOOKUPS,
    ),
    FunctionRule(
        id="own-customer-only",
        description="Changes concern the customer who was identified.",
        func=_own_customer,
    ),
    _noted("refuel-at-most-2gb", "At most 2 GB of data is refuelled."),
    _noted(
        "payment-request-for-overdue-bill",
        "A payment request is sent only for an overdue bill.",
    ),
    _noted(
        "resume-after-payment",
        "A suspended line is resumed only once every overdue bill is paid.",
    ),
    _noted(
        "no-resume-after-contract-end",
        "A line whose contract end date is past is not resumed.",
    ),
)


# -- loading ------------------------------------------------------------------------------


def telecom_policy(main_policy: str, tech_support: str) -> str:
    """The agent's policy as the benchmark assembles it from its two parts."""
    return (
        f"<main_policy>\n{main_policy}\n</main_policy>\n"
        f"<tech_support_policy>\n{tech_support}\n</tech_support_policy>"
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read the data file ({exc})", source=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=str(path)) from exc


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the policy ({exc})", source=str(path)) from exc


def carrier_state(db: Mapping[str, Any], *, source: str) -> dict[str, dict[str, Any]]:
    """The agent-side tables from the carrier database (lists of rows keyed by id)."""
    state: dict[str, dict[str, Any]] = {}
    for table, key in _KEYS.items():
        rows = db.get(table)
        if not isinstance(rows, list):
            raise ConfigError(f"expected a list of {table}", source=source, field=table)
        state[table] = {}
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not isinstance(row.get(key), str):
                raise ConfigError(f"a row needs a {key!r}", source=source, field=f"{table}[{i}]")
            state[table][row[key]] = row
    return state


_GOALS = {"[mms_issue]": "mms", "[mobile_data_issue]": "mobile_data", "[service_issue]": "service"}


def _instruction(scenario: Mapping[str, Any]) -> str:
    """The user's side of a τ² task as one text: persona, then the instructions' parts."""
    instructions = scenario.get("instructions")
    if isinstance(instructions, str):
        parts = [instructions]
    else:
        instructions = dict(instructions or {})
        parts = [
            f"{label}: {' '.join(str(instructions[key]).split())}"
            for key, label in (
                ("reason_for_call", "Reason for call"),
                ("known_info", "Known info"),
                ("unknown_info", "Unknown info"),
                ("task_instructions", "Task instructions"),
            )
            if instructions.get(key)
        ]
    persona = scenario.get("persona")
    if persona:
        parts.insert(0, f"Persona: {' '.join(str(persona).split())}")
    return "\n".join(parts)


def _opening(reason: str) -> str:
    """The first sentence of the reason for the call, as the caller would say it."""
    first = re.split(r"(?<=[.!?])\s+", " ".join(reason.split()))[0]
    for pattern, replacement in (
        (r"^You mobile\b", "My mobile"),
        (r"\byou are\b", "I am"),
        (r"\byour\b", "my"),
        (r"\byou\b", "I"),
    ):
        first = re.sub(pattern, replacement, first, flags=re.I)
    return first[0].upper() + first[1:] if first else "I have a problem with my phone."


def task_id(upstream: str) -> str:
    """A τ² task id as a simulacra id: each run of brackets, bars and other signs becomes
    one dot (``[mms_issue]bad_wifi_calling|unseat_sim_card[PERSONA:Hard]`` →
    ``mms_issue.bad_wifi_calling.unseat_sim_card.PERSONA:Hard``)."""
    return re.sub(r"[^A-Za-z0-9_:\-]+", ".", upstream).strip(".") or "task"


def _task(item: Mapping[str, Any], index: int, suite: str, source: str) -> EnvTask:
    where = f"[{index}]"
    if not isinstance(item.get("id"), str):
        raise ConfigError("a task needs an 'id' string", source=source, field=where)
    scenario = item.get("user_scenario") or {}
    initial = item.get("initial_state") or {}
    evaluation = item.get("evaluation_criteria") or {}
    try:
        actions = tuple(
            Action(
                name=a["name"],
                arguments=dict(a.get("arguments") or {}),
                requestor=a.get("requestor") or "assistant",
                compare_args=a.get("compare_args"),
            )
            for a in evaluation.get("actions") or []
        )
        criteria = Tau2Criteria.model_validate(
            {
                "initialization_actions": initial.get("initialization_actions") or [],
                "env_assertions": evaluation.get("env_assertions") or [],
                "communicate_info": evaluation.get("communicate_info") or [],
                "nl_assertions": evaluation.get("nl_assertions") or [],
                "reward_basis": evaluation.get("reward_basis") or ["DB", "COMMUNICATE"],
                "goal": next((g for p, g in _GOALS.items() if item["id"].startswith(p)), "service"),
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigError(f"bad task ({problems})", source=source, field=where) from None
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"bad task ({exc})", source=source, field=where) from exc
    details: dict[str, str] = {}
    for step in criteria.initialization_actions:
        if step.func_name == "set_user_info":
            details["name"] = str(step.arguments.get("name", ""))
            details["phone"] = str(step.arguments.get("phone_number", ""))
    instructions = scenario.get("instructions")
    reason = instructions.get("reason_for_call", "") if isinstance(instructions, dict) else ""
    opening = _opening(str(reason or instructions or ""))
    shards = [opening]
    if details.get("name"):
        shards.append(f"My name is {details['name']}.")
    if details.get("phone"):
        shards.append(f"My phone number is {details['phone']}.")
    return EnvTask(
        id=task_id(item["id"]),
        suite=suite,
        env=TelecomEnv.name,
        instruction=_instruction(scenario),
        private_details={k: v for k, v in details.items() if v},
        shards=tuple(shards),
        actions=actions,
        assertions=criteria.judged_assertions,
        metadata={
            "index": index,
            "tau2_id": item["id"],
            "ticket": item.get("ticket"),
            "description": item.get("description"),
            "tau2": criteria.model_dump(mode="json"),
        },
    )


def load_tau2_telecom(
    data_dir: str | Path,
    *,
    tasks_file: str = "tasks_train.json",
    suite: str | None = None,
    tech_support: str = "tech_support_manual.md",
    validate: bool = True,
) -> tuple[EnvFactory, list[EnvTask]]:
    """Load the telecom domain and its tasks from a directory of the τ² data files.

    Reads ``db.toml`` (the carrier database), ``user_db.toml`` (the phone before a
    task's set-up), ``main_policy.md`` and ``tech_support`` (the manual, or
    ``tech_support_workflow.md``), joined into the agent's policy as the benchmark does,
    and ``tasks_file`` (the τ² format; ids kept). The suite is ``suite`` or
    ``tau2-telecom-<split>`` (``tasks_train.json`` → ``train``). With ``validate``
    every task is set up and its reference actions replayed once: a set-up function
    that is not one is a ConfigError naming the task, a failing reference action a
    ``TaskWarning``.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise ConfigError("data directory not found", source=str(root))
    db_path = root / "db.toml"
    state: dict[str, dict[str, Any]] = carrier_state(_read_toml(db_path), source=str(db_path))
    user_path = root / "user_db.toml"
    try:
        state["phone"] = phone_state(_read_toml(user_path))
    except ConfigError as exc:
        raise ConfigError(exc.message, source=str(user_path), field=exc.field) from None
    policy = telecom_policy(_read_text(root / "main_policy.md"), _read_text(root / tech_support))
    factory = EnvFactory.from_state(TelecomEnv, state, instructions=policy)
    tasks_path = root / tasks_file
    raw = read_json(tasks_path, what="data file")
    if isinstance(raw, dict):
        raw = raw.get("tasks")
    if not isinstance(raw, list):
        raise ConfigError("expected a list of tasks", source=str(tasks_path))
    if suite is None:
        split = Path(tasks_file).stem.removeprefix("tasks_").removeprefix("tasks") or "all"
        suite = f"{TelecomEnv.name}-{split}"
    tasks = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError("a task must be an object", source=str(tasks_path), field=f"[{i}]")
        tasks.append(_task(item, i, suite, str(tasks_path)))
    if validate:
        for i, task in enumerate(tasks):
            try:
                factory().start(task)
            except ConfigError as exc:
                raise ConfigError(exc.message, source=str(tasks_path), field=f"[{i}]") from None
        validate_tasks(factory, tasks, source=str(tasks_path))
    return factory, tasks
