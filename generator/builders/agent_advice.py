"""What an admin does about each exit code of the down-level agents' payloads, on any route.

The meanings are the payloads' (generator/payloads.py, from Microsoft's tables); the advice is
the same whether a GPO task or a ConfigMgr program ran the payload, because both run as SYSTEM.
"""

from __future__ import annotations

from generator.payloads import Payload

DEFENDERDT = {
    1: "wait for the running instance; the next run continues",
    2: "nothing: the server is onboarded",
    5: "download the current DefenderDT.exe and release again",
    6: "nothing: the next run uses the updated tool",
    10: "restart the server; the tool resumes after the restart",
    11: "copy the kit's files again (a changed byte breaks Microsoft's signature)",
    12: "see the tool's log; check other security software",
    20: "check the share holds every file of the kit",
    30: "copy DefenderDT.exe again from the kit",
    40: "the task or program must run as SYSTEM",
    50: "check the target's releases: this server's OS is not supported",
    70: "see the tool's log",
    80: "nothing for onboarding; see the tool's log",
    90: "run DefenderDT.exe -Precheck on the server; install what it names",
    100: "download the current DefenderDT.exe",
    200: "check connectivity to the Defender cloud and the SENSE event log",
    201: "check the share holds WindowsDefenderATP.onboarding",
    210: "restart the server and run again",
    400: "check the proxy and connectivity to Microsoft's download sites",
    500: "see the tool's log",
    600: "see the tool's log",
    610: "download the current DefenderDT.exe and release again",
    700: "see the tool's log; restart and run again",
    710: "enable the Windows Defender feature by hand, then run again",
    720: "uninstall System Center Endpoint Protection by hand, then run again",
    730: "check the package comes from your cloud's portal (GCC High, DoD); see the tool's log",
    740: "check the package comes from your cloud's portal (GCC High, DoD); see the tool's log",
    1000: "see the tool's log",
}

UNIFIED = {
    3: "the task or program must run as SYSTEM or an administrator",
    4: "allow the server to reach Windows Update, or install the updates the handoff lists first",
    6: "check the kit was not edited",
    10: "check the target's releases: this server's OS is not supported",
    12: "restart the server; the next run continues",
    13: "install the prerequisites the handoff lists",
    14: "see install.ps1's log",
    15: "copy md4ws.msi again from the portal's package, unchanged",
    16: "check the share holds md4ws.msi",
    18: "check C:\\ProgramData\\mdegen\\unified is writable by SYSTEM",
    30: "check the share holds the onboarding script",
    35: "nothing if the server reports in the portal; to reinstall the agent, offboard it first",
    36: "wait for the other installation, then run again",
    37: "use the portal's Group Policy package, not the local script",
    39: "remove the DisableAntiSpyware policy (Turn off Microsoft Defender Antivirus)",
    81: "check the share is readable by the computer account and the disk has room",
    82: "copy the kit's files again, unchanged; compare them with SHA256SUMS",
    83: "see the Application log (WDATPOnboarding) and the SENSE log; check connectivity",
    84: "delete C:\\ProgramData\\mdegen (someone else created it) and run again",
    1603: "see install-<computer>.log; restart and run again",
    1618: "wait and run again",
    3010: "restart the server; the next run onboards it",
}

MMA = {
    81: "check the share is readable by the computer account and the disk has room",
    82: "copy the kit's files again, unchanged; compare them with SHA256SUMS",
    83: "copy MMASetup-AMD64.exe again from Microsoft's download",
    84: "place the workspace key where the handoff says (MdeWorkspaceKey.txt beside the script)",
    85: "copy the workspace key again from the portal (one line, nothing else)",
    86: "place the proxy password where the handoff says (MdeProxyPassword.txt beside the script)",
    87: "check the installed agent's version (10.20.18067 or later) and the Operations Manager log",
    88: "delete C:\\ProgramData\\mdegen (someone else created it) and run again",
    1603: "see the Application log (MsiInstaller); restart and run again",
    1618: "wait and run again",
    1641: "nothing: the server restarts to finish",
    3010: "restart the server to finish",
}

_ADVICE = {"defenderdt": DEFENDERDT, "unified": UNIFIED, "mma": MMA}


def exit_code_rows(payload: Payload, portal_advice: dict[int, str]) -> list[dict[str, object]]:
    """The payload's exit-code table with what to do: the agent's advice, or the route's own
    ``portal_advice`` for the portal script."""
    advice = _ADVICE.get(payload.agent, portal_advice)
    return [{"code": code, "meaning": meaning, "advice": advice[code]} for code, meaning in payload.exit_codes]


def payload_title(payload: Payload) -> str:
    """How handoffs name what a payload runs."""
    return {"defenderdt": "DefenderDT.exe (the Defender deployment tool)",
            "unified": "install.ps1 with md4ws.msi (the unified agent)",
            "mma": "Install-MdeMma.ps1 with MMASetup (the Microsoft Monitoring Agent)"}.get(payload.agent, "the portal's onboarding script")
