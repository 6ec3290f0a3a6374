"""`mdegen init`: the annotated starter config and the runnable example.

The example uses a synthetic, clearly fake portal package (generator/synthetic.py): never real
tenant data.
"""

from __future__ import annotations

import datetime as dt

from generator.artifacts import OutputFile
from generator.templating import render

# (explanation, YAML lines) per setting, in the order of the policy model. The starter config
# carries them commented out; the example sets them. The values are the ones the Defender for
# Endpoint documentation recommends for servers.
_SETTINGS: list[tuple[str, list[str]]] = [
    ("Passive mode (ForceDefenderPassiveMode): true when another antivirus stays the primary one; "
     "false writes 0 and keeps Defender Antivirus active.", ["passive_mode: true"]),
    ("Tag on the device in the Defender portal (DeviceTagging\\Group), up to 200 characters.",
     ["device_tag: Servers"]),
    ("Defender for Endpoint sample collection for Deep Analysis (AllowSampleCollection).",
     ["sample_collection: true"]),
    ("Telemetry reporting frequency: normal | expedite.", ["telemetry_latency: normal"]),
    ("Join Microsoft MAPS (cloud-delivered protection): disabled | basic | advanced.",
     ["cloud_protection: advanced"]),
    ("Send file samples: always_prompt | send_safe_samples | never_send | send_all_samples.",
     ["sample_submission: send_safe_samples"]),
    ("Potentially unwanted applications: off | block | audit.", ["pua_protection: block"]),
    ("Real-time protection on (writes DisableRealtimeMonitoring=0).", ["realtime_protection: true"]),
    ("Behaviour monitoring on (DisableBehaviorMonitoring=0).", ["behavior_monitoring: true"]),
    ("Scan all downloaded files and attachments (DisableIOAVProtection=0).", ["scan_downloads: true"]),
    ("Monitor file and program activity (DisableOnAccessProtection=0).", ["monitor_file_activity: true"]),
    ("Check for the latest security intelligence before a scheduled scan.",
     ["signature_check_before_scan: true"]),
    ("Attack surface reduction rules by GUID: off | block | audit | warn. Start in audit.",
     ["asr_rules:",
      "  9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2: audit   # credential stealing from LSASS",
      "  56a863a9-875e-4185-98a7-b882c64b5ce5: audit   # abuse of exploited vulnerable signed drivers",
      "  e6db77e5-3df2-4cf1-b95a-636979351e5b: audit   # persistence through WMI event subscription",
      "  c1db55ab-c21a-4637-bb3f-a12568109d35: audit   # advanced protection against ransomware"]),
    ("Controlled folder access: off | block | audit | block_disk_modification | audit_disk_modification.",
     ["controlled_folder_access: audit"]),
]

EXAMPLE_ONBOARDING = "packages/WindowsDefenderATPOnboardingPackage.zip"
# The example's down-level agent files: FAKE (generator/synthetic.py), never Microsoft's binaries.
EXAMPLE_AGENTS = {"defenderdt": "packages/DefenderDT.exe",
                  "defenderdt_onboarding": "packages/WindowsDefenderATP.onboarding",
                  "unified_msi": "packages/md4ws.msi",
                  "unified_script": "packages/install.ps1",
                  "defenderdt_offboarding": "packages/WindowsDefenderATP_valid_until_2099-12-31.offboarding"}
EXAMPLE_VDI = "packages/WindowsDefenderATPOnboardingPackage_VDI.zip"
# The example's ConfigMgr current-branch packages: FAKE zips holding the signed blobs.
EXAMPLE_CONFIGMGR = {"onboarding": "packages/configmgr/WindowsDefenderATPOnboardingPackage.zip",
                     "offboarding": "packages/configmgr/WindowsDefenderATPOffboardingPackage_valid_until_2099-12-31.zip"}
# The fake offboarding script of the example: clearly fake (all-zero organisation, stops at its
# first line) and never expired, so that the example always builds its offboarding GPO and package.
EXAMPLE_OFFBOARDING_EXPIRES = dt.datetime(2099, 12, 31, 12, 0, tzinfo=dt.timezone.utc)


def _settings_lines(example: bool) -> list[str]:
    lines: list[str] = []
    for i, (why, yaml_lines) in enumerate(_SETTINGS):
        if i:
            lines.append("")
        lines.append(f"# {why}")
        enabled = example or yaml_lines[0].startswith("passive_mode")
        lines += [line if enabled else f"# {line}" for line in yaml_lines]
    return lines


def starter_config(*, example: bool = False, today: dt.date | None = None) -> bytes:
    """The annotated config. ``today`` dates the release of a starter; the example has a fixed date
    so that it is the same everywhere."""
    release_date = dt.date(2026, 1, 15) if example or today is None else today
    text = render(
        "config/mdegen.yaml.j2",
        example=example,
        organization="Contoso Example Ltd" if example else "Contoso Ltd",
        release_version="2026.1.0" if example else f"{release_date:%Y.%m}.0",
        release_date=release_date.isoformat(),
        onboarding=EXAMPLE_ONBOARDING if example else "packages/WindowsDefenderATPOnboardingPackage.zip",
        offboarding=example_offboarding_path() if example else None,
        vdi=EXAMPLE_VDI if example else None,
        example_agents=EXAMPLE_AGENTS,
        example_configmgr=EXAMPLE_CONFIGMGR,
        share=r"\\fs01.contoso.example\MDE$\Onboarding" if example else r"\\fs01.contoso.com\MDE$\Onboarding",
        settings_lines=_settings_lines(example),
    )
    return text.encode("utf-8")


def example_files() -> list[OutputFile]:
    """The runnable example: config plus synthetic (fake) portal packages and agent files, and a
    fake fleet (an inventory for `mdegen plan`, verification results for `mdegen report`)."""
    from generator import example_fleet, synthetic

    return [
        OutputFile("mdegen.yaml", starter_config(example=True)),
        OutputFile(EXAMPLE_ONBOARDING, synthetic.onboarding_zip()),
        OutputFile(example_offboarding_path(), synthetic.offboarding_script(expires=EXAMPLE_OFFBOARDING_EXPIRES)),
        OutputFile(EXAMPLE_VDI, synthetic.vdi_zip()),
        OutputFile(EXAMPLE_AGENTS["defenderdt"], synthetic.fake_pe("DefenderDT.exe", signed=True)),
        OutputFile(EXAMPLE_AGENTS["defenderdt_onboarding"], synthetic.fake_defenderdt_onboarding()),
        OutputFile(EXAMPLE_AGENTS["unified_msi"], synthetic.fake_msi("md4ws.msi")),
        OutputFile(EXAMPLE_AGENTS["unified_script"], synthetic.fake_install_ps1()),
        OutputFile(EXAMPLE_AGENTS["defenderdt_offboarding"],
                   synthetic.fake_defenderdt_offboarding(expires=EXAMPLE_OFFBOARDING_EXPIRES)),
        OutputFile(EXAMPLE_CONFIGMGR["onboarding"], synthetic.configmgr_onboarding_zip()),
        OutputFile(EXAMPLE_CONFIGMGR["offboarding"], synthetic.configmgr_offboarding_zip(expires=EXAMPLE_OFFBOARDING_EXPIRES)),
        OutputFile(example_fleet.INVENTORY_NAME, example_fleet.inventory_csv()),
        *(OutputFile(name, data) for name, data in example_fleet.results()),
    ]


def example_offboarding_path() -> str:
    from generator import synthetic

    return "packages/" + synthetic.offboarding_script_name(EXAMPLE_OFFBOARDING_EXPIRES)
