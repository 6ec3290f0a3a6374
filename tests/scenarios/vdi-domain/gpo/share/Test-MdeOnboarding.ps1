#Requires -Version 3.0
<#
.SYNOPSIS
    Checks that this server is onboarded to Microsoft Defender for Endpoint as its target expects
    (or, with -Expect Offboarded, that it is offboarded), and writes one JSON result.

.DESCRIPTION
    Written by mdegen; it changes nothing. A summary goes to the console (the host), the JSON
    document to the output, or with -ResultPath to <ResultPath>\<computer name>.json. The JSON
    follows mdegen's result schema, version 1 (`mdegen schema --results`).

    Exit code: 0 when every check passes or does not apply; otherwise the sum of the classes that
    failed:
      1   tenant: not onboarded (or not offboarded), another organisation, or the script's event is an error
      2   sensor: the Sense service does not run (or still starts automatically after offboarding)
      4   antivirus: Defender Antivirus: service, running mode or passive-mode policy not as expected
      8   tag: the device tag is not the configured one
      16  agent: the down-level agent is missing or reports a failure
      32  connectivity: the SENSE log shows connectivity errors since the last start
    128 means the script itself failed (its message says why; no JSON is written).

.PARAMETER Expect
    Onboarded (default) or Offboarded.
.PARAMETER OrgId
    The Defender organisation id the server must report to (from the onboarding package).
.PARAMETER PassiveMode
    on, off or unset: what the target configures for Defender Antivirus. off accepts an absent
    passive-mode policy value too (it forces nothing); the running mode is checked either way.
.PARAMETER DeviceTag
    The device tag the target sets, if any.
.PARAMETER Agent
    none (2019 and later), defenderdt, unified or mma.
.PARAMETER WorkspaceId
    The Log Analytics workspace of the mma agent.
.PARAMETER Target
    The target's name, recorded in the result.
.PARAMETER Release
    The mdegen release, recorded in the result.
.PARAMETER ResultPath
    A folder (a results share) for <computer name>.json instead of the output.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Test-MdeOnboarding.ps1 -OrgId 00000000-0000-0000-0000-000000000000 -PassiveMode on
#>
[CmdletBinding()]
param(
    [ValidateSet('Onboarded', 'Offboarded')] [string] $Expect = 'Onboarded',
    [string] $OrgId = '',
    [ValidateSet('on', 'off', 'unset')] [string] $PassiveMode = 'unset',
    [string] $DeviceTag = '',
    [ValidateSet('none', 'defenderdt', 'unified', 'mma')] [string] $Agent = 'none',
    [string] $WorkspaceId = '',
    [string] $Target = '',
    [string] $Release = '',
    [string] $ResultPath = ''
)

if ($env:PROCESSOR_ARCHITEW6432 -eq 'AMD64' -and $MyInvocation.MyCommand.Path) {
    $relaunch = @('-NoProfile', '-ExecutionPolicy', 'Bypass', '-File', $MyInvocation.MyCommand.Path)
    foreach ($parameter in $PSBoundParameters.GetEnumerator()) {
        if ($parameter.Value -is [System.Management.Automation.SwitchParameter]) {
            if ($parameter.Value.IsPresent) {
                $relaunch += ('-' + $parameter.Key)
            }
        }
        elseif ([string] $parameter.Value) {
            # Windows PowerShell drops an empty string on a native command line: leave it out.
            $relaunch += ('-' + $parameter.Key)
            $relaunch += [string] $parameter.Value
        }
    }
    & (Join-Path $env:SystemRoot 'Sysnative\WindowsPowerShell\v1.0\powershell.exe') @relaunch
    exit $LASTEXITCODE
}

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'
# An error no check expects: say so and exit with a code no check class uses (no JSON is written).
trap {
    Write-Host ('Test-MdeOnboarding.ps1 failed: {0}' -f $_.Exception.Message)
    exit 128
}

# ---------------------------------------------------------------------------------------------
# Written by mdegen: registry facts, event ids and the result's check ids and classes.
# ---------------------------------------------------------------------------------------------
$Facts = [pscustomobject]@{
    SchemaId          = 'https://mdegen.invalid/schemas/result-1.json'
    StatusKey         = 'SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'
    StateValue        = 'OnboardingState'
    OrgIdValue        = 'OrgId'
    PolicyKey         = 'SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection'
    PassiveValue      = 'ForceDefenderPassiveMode'
    TagKey            = 'SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection\DeviceTagging'
    TagValue          = 'Group'
    SenseService      = 'Sense'
    SenseServicePath  = 'SYSTEM\CurrentControlSet\Services\Sense'
    DefenderService   = 'WinDefend'
    OnboardingSource  = 'WDATPOnboarding'
    OffboardingSource = 'WDATPOffboarding'
    SuccessEvent      = 20
    SenseLog          = 'Microsoft-Windows-SENSE/Operational'
    SenseProvider     = 'Microsoft-Windows-SENSE'
    ContactedId       = 4
    ConnectivityIds   = @(5, 15)
    PassiveEventId    = 84
    UnifiedName       = '^Microsoft Defender for (Windows Server|Endpoint)'
    UninstallKeys     = @('SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall', 'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall')
    DefenderDtLogs    = 'C:\ProgramData\Microsoft\DefenderDeploymentTool'
    MmaComClass       = 'AgentConfigManager.MgmtSvcCfg'
    OnboardingValue   = 'OnboardingInfo'
    RebootKeys        = @('SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending', 'SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')
    DefenderPolicyKey = 'SOFTWARE\Policies\Microsoft\Windows Defender'
    AntiSpywareValue  = 'DisableAntiSpyware'
    InstallMarkerKey  = 'SOFTWARE\Microsoft\Microsoft Defender for Endpoint Install'
    InstallMarkerValue = 'PendingReboot'
}
# What the onboarding script's event ids (its exit codes) mean.
$EventMeaning = @{
    5 = 'a previous offboarding value could not be deleted'
    10 = 'the onboarding value could not be written'
    15 = 'the Defender for Endpoint service (SENSE) did not start'
    30 = 'timed out waiting for the service'
    35 = 'the onboarding state value did not appear'
    40 = 'onboarding state is not 1'
    65 = 'not running with administrative rights'
    70 = 'an offboarding script of another organisation'
}
# Check id -> the class it fails (the exit code's bits).
$ClassOf = @{
    'onboarding_state' = 1
    'org_id' = 1
    'script_event' = 1
    'onboarding_value' = 1
    'sense_service' = 2
    'sense_connectivity' = 32
    'defender_service' = 4
    'running_mode' = 4
    'passive_policy' = 4
    'passive_event' = 4
    'prerequisites' = 16
    'device_tag' = 8
    'agent' = 16
}

$Checks = New-Object System.Collections.ArrayList

function Add-CheckResult {
    param([string] $Id, [string] $Status, [string] $Expected, [string] $Observed, [string] $Detail)
    [void] $Checks.Add([pscustomobject][ordered]@{
        id = $Id; class = $ClassOf[$Id]; status = $Status; expected = $Expected; observed = $Observed; detail = $Detail
    })
    $mark = @{ 'pass' = 'PASS'; 'fail' = 'FAIL'; 'not-applicable' = 'n/a ' }[$Status]
    Write-Host ('{0}  {1}: {2}' -f $mark, $Id, $Detail)
}

function Get-Value {
    # A registry value below HKLM, or $null when the key or the value is absent.
    param([string] $Key, [string] $Name)
    $item = Get-ItemProperty -Path ('HKLM:\' + $Key) -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) {
        return $null
    }
    return $item.$Name
}

function Get-LatestEvent {
    param([hashtable] $Filter)
    try {
        return Get-WinEvent -FilterHashtable $Filter -MaxEvents 1 -ErrorAction Stop
    }
    catch {
        return $null
    }
}

$onboarded = $Expect -eq 'Onboarded'

# --- the sensor and the tenant -----------------------------------------------------------------
$state = Get-Value -Key $Facts.StatusKey -Name $Facts.StateValue
if ($onboarded) {
    if ($state -eq 1) {
        Add-CheckResult -Id 'onboarding_state' -Status 'pass' -Expected '1' -Observed '1' -Detail 'onboarded'
    }
    else {
        Add-CheckResult -Id 'onboarding_state' -Status 'fail' -Expected '1' -Observed ([string] $state) -Detail ('{0} is not 1' -f $Facts.StateValue)
    }
}
elseif ($state -eq 1) {
    Add-CheckResult -Id 'onboarding_state' -Status 'fail' -Expected 'not 1' -Observed '1' -Detail 'still onboarded'
}
else {
    Add-CheckResult -Id 'onboarding_state' -Status 'pass' -Expected 'not 1' -Observed ([string] $state) -Detail 'not onboarded'
}

$org = [string] (Get-Value -Key $Facts.StatusKey -Name $Facts.OrgIdValue)
if (-not $onboarded -or -not $OrgId) {
    Add-CheckResult -Id 'org_id' -Status 'not-applicable' -Expected $OrgId -Observed $org -Detail 'no organisation to compare'
}
elseif ($org -and ($org -as [guid]) -and ($OrgId -as [guid]) -and ([guid] $org) -eq ([guid] $OrgId)) {
    Add-CheckResult -Id 'org_id' -Status 'pass' -Expected $OrgId -Observed $org -Detail 'reports to the expected organisation'
}
else {
    Add-CheckResult -Id 'org_id' -Status 'fail' -Expected $OrgId -Observed $org -Detail 'reports to another organisation, or to none'
}

$source = $Facts.OnboardingSource
if (-not $onboarded) {
    $source = $Facts.OffboardingSource
}
$scriptEvent = Get-LatestEvent -Filter @{ LogName = 'Application'; ProviderName = $source }
if ($null -eq $scriptEvent) {
    Add-CheckResult -Id 'script_event' -Status 'not-applicable' -Expected ([string] $Facts.SuccessEvent) -Observed '' -Detail ('no {0} event in the Application log' -f $source)
}
elseif ($scriptEvent.Id -eq $Facts.SuccessEvent) {
    Add-CheckResult -Id 'script_event' -Status 'pass' -Expected ([string] $Facts.SuccessEvent) -Observed ([string] $scriptEvent.Id) -Detail ('{0} event {1} at {2:u}' -f $source, $scriptEvent.Id, $scriptEvent.TimeCreated)
}
else {
    $meaning = $EventMeaning[[int] $scriptEvent.Id]
    if (-not $meaning) {
        $meaning = 'see the event text'
    }
    Add-CheckResult -Id 'script_event' -Status 'fail' -Expected ([string] $Facts.SuccessEvent) -Observed ([string] $scriptEvent.Id) -Detail ('{0} event {1} at {2:u}: {3}' -f $source, $scriptEvent.Id, $scriptEvent.TimeCreated, $meaning)
}

# The onboarding data the portal's script writes as policy: gone after offboarding, or the sensor
# onboards again at its next start.
$info = Get-Value -Key $Facts.PolicyKey -Name $Facts.OnboardingValue
if ($onboarded) {
    Add-CheckResult -Id 'onboarding_value' -Status 'not-applicable' -Expected '' -Observed ($(if ($null -ne $info) { 'present' } else { 'absent' })) -Detail ('{0} is not compared while onboarded' -f $Facts.OnboardingValue)
}
elseif ($null -eq $info) {
    Add-CheckResult -Id 'onboarding_value' -Status 'pass' -Expected 'absent' -Observed 'absent' -Detail ('no {0} policy value' -f $Facts.OnboardingValue)
}
else {
    Add-CheckResult -Id 'onboarding_value' -Status 'fail' -Expected 'absent' -Observed 'present' -Detail ('{0} is still set: an onboarding GPO or package still applies' -f $Facts.OnboardingValue)
}

$service = Get-Service -Name $Facts.SenseService -ErrorAction SilentlyContinue
$start = Get-Value -Key $Facts.SenseServicePath -Name 'Start'
if ($onboarded) {
    if ($null -ne $service -and $service.Status -eq 'Running') {
        Add-CheckResult -Id 'sense_service' -Status 'pass' -Expected 'Running' -Observed 'Running' -Detail 'the sensor service runs'
    }
    elseif ($Agent -eq 'mma' -and $null -eq $service) {
        Add-CheckResult -Id 'sense_service' -Status 'not-applicable' -Expected 'Running' -Observed '' -Detail 'no Sense service: the Microsoft Monitoring Agent runs the sensor'
    }
    else {
        $observed = 'absent'
        if ($null -ne $service) {
            $observed = [string] $service.Status
        }
        Add-CheckResult -Id 'sense_service' -Status 'fail' -Expected 'Running' -Observed $observed -Detail 'the sensor service does not run'
    }
}
elseif ($start -eq 2 -or ($null -ne $service -and $service.Status -ne 'Stopped')) {
    $observed = 'automatic'
    if ($null -ne $service) {
        $observed = '{0}, start {1}' -f $service.Status, $start
    }
    Add-CheckResult -Id 'sense_service' -Status 'fail' -Expected 'Stopped, not automatic' -Observed $observed -Detail 'the sensor service still runs or starts automatically'
}
else {
    Add-CheckResult -Id 'sense_service' -Status 'pass' -Expected 'Stopped, not automatic' -Observed ([string] $start) -Detail 'the sensor service is stopped and does not start automatically'
}

if ($onboarded) {
    # The latest of the sensor's contact events since the last start decides: one failure at boot,
    # before the network is up, is not a failure once a later contact worked.
    $latest = $null
    $readable = $true
    try {
        $since = (Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop).LastBootUpTime
        $latest = Get-WinEvent -FilterHashtable @{ LogName = $Facts.SenseLog; Id = @($Facts.ContactedId) + $Facts.ConnectivityIds; StartTime = $since } -MaxEvents 1 -ErrorAction Stop
    }
    catch {
        $readable = $_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*'
    }
    if (-not $readable) {
        Add-CheckResult -Id 'sense_connectivity' -Status 'not-applicable' -Expected '' -Observed '' -Detail 'the SENSE log cannot be read here'
    }
    elseif ($null -eq $latest -or $latest.Id -eq $Facts.ContactedId) {
        Add-CheckResult -Id 'sense_connectivity' -Status 'pass' -Expected ([string] $Facts.ContactedId) -Observed ($(if ($latest) { [string] $latest.Id } else { '' })) -Detail 'no connectivity error since the last contact'
    }
    else {
        Add-CheckResult -Id 'sense_connectivity' -Status 'fail' -Expected ([string] $Facts.ContactedId) -Observed ([string] $latest.Id) -Detail ('the latest contact event since the start is {0} at {1:u}, a failure' -f $latest.Id, $latest.TimeCreated)
    }
}
else {
    Add-CheckResult -Id 'sense_connectivity' -Status 'not-applicable' -Expected '' -Observed '' -Detail 'offboarded: no connection expected'
}

# --- Defender Antivirus ------------------------------------------------------------------------
$defender = Get-Service -Name $Facts.DefenderService -ErrorAction SilentlyContinue
if ($null -eq $defender) {
    Add-CheckResult -Id 'defender_service' -Status 'not-applicable' -Expected 'Running' -Observed 'absent' -Detail 'Defender Antivirus is not installed'
}
elseif ($defender.Status -eq 'Running') {
    Add-CheckResult -Id 'defender_service' -Status 'pass' -Expected 'Running' -Observed 'Running' -Detail 'Defender Antivirus runs'
}
else {
    Add-CheckResult -Id 'defender_service' -Status 'fail' -Expected 'Running' -Observed ([string] $defender.Status) -Detail 'Defender Antivirus does not run'
}

$expectedMode = @{ 'on' = 'Passive Mode'; 'off' = 'Normal'; 'unset' = '' }[$PassiveMode]
# With EDR in block mode, or beside another antivirus that registered first, a passive Defender
# reports these instead.
$alsoPassive = @('Passive Mode', 'SxS Passive Mode', 'EDR Block Mode')
$mode = ''
if (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue) {
    try {
        $mode = [string] (Get-MpComputerStatus).AMRunningMode
    }
    catch {
        $mode = ''
    }
}
if (-not $onboarded -or -not $expectedMode -or -not $mode) {
    Add-CheckResult -Id 'running_mode' -Status 'not-applicable' -Expected $expectedMode -Observed $mode -Detail 'no running mode to compare'
}
elseif ($mode -eq $expectedMode -or ($PassiveMode -eq 'on' -and $alsoPassive -contains $mode)) {
    Add-CheckResult -Id 'running_mode' -Status 'pass' -Expected $expectedMode -Observed $mode -Detail ('Defender Antivirus runs in {0}' -f $mode)
}
else {
    Add-CheckResult -Id 'running_mode' -Status 'fail' -Expected $expectedMode -Observed $mode -Detail ('Defender Antivirus runs in {0}, not {1}' -f $mode, $expectedMode)
}

$passive = Get-Value -Key $Facts.PolicyKey -Name $Facts.PassiveValue
$expectedPassive = @{ 'on' = '1'; 'off' = '0'; 'unset' = '' }[$PassiveMode]
if (-not $onboarded) {
    # The onboarding GPO is unlinked before offboarding, and takes its policy values with it.
    $expectedPassive = ''
}
if (-not $expectedPassive) {
    Add-CheckResult -Id 'passive_policy' -Status 'not-applicable' -Expected '' -Observed ([string] $passive) -Detail 'passive mode is not configured'
}
elseif ([string] $passive -eq $expectedPassive) {
    Add-CheckResult -Id 'passive_policy' -Status 'pass' -Expected $expectedPassive -Observed ([string] $passive) -Detail ('{0} is {1}' -f $Facts.PassiveValue, $passive)
}
elseif ($expectedPassive -eq '0' -and $null -eq $passive) {
    # Off: an absent value forces nothing either (the SCCM kit's Defender for Endpoint policy writes
    # none); the running mode above says whether Defender Antivirus is active.
    Add-CheckResult -Id 'passive_policy' -Status 'pass' -Expected $expectedPassive -Observed '' -Detail ('{0} is not set: nothing forces passive mode' -f $Facts.PassiveValue)
}
else {
    Add-CheckResult -Id 'passive_policy' -Status 'fail' -Expected $expectedPassive -Observed ([string] $passive) -Detail ('{0} is not {1}' -f $Facts.PassiveValue, $expectedPassive)
}

$event84 = Get-LatestEvent -Filter @{ LogName = $Facts.SenseLog; ProviderName = $Facts.SenseProvider; Id = $Facts.PassiveEventId }
if (-not $expectedPassive -or $null -eq $event84) {
    Add-CheckResult -Id 'passive_event' -Status 'not-applicable' -Expected $expectedPassive -Observed '' -Detail 'no passive-mode event to compare'
}
else {
    # The event's data, not its (localised) text: %1 is "force passive mode", %2 the result code.
    $forced = [string] $event84.Properties[0].Value
    $code = [string] $event84.Properties[1].Value
    $wanted = @{ '1' = @('1', 'true'); '0' = @('0', 'false') }[$expectedPassive]
    if ($wanted -contains $forced.ToLowerInvariant() -and $code -eq '0') {
        Add-CheckResult -Id 'passive_event' -Status 'pass' -Expected $expectedPassive -Observed ('{0}, result {1}' -f $forced, $code) -Detail 'the sensor set the expected running mode'
    }
    else {
        Add-CheckResult -Id 'passive_event' -Status 'fail' -Expected $expectedPassive -Observed ('{0}, result {1}' -f $forced, $code) -Detail 'the sensor reports another running mode, or an error setting it'
    }
}

# --- what a down-level agent needs ----------------------------------------------------------------
# Only where the server is not onboarded: what stops an agent's installation (Test-MdePrerequisites.ps1
# checks the rest). A pending restart, install.ps1's own restart marker, and for the unified agent
# a policy that turns Defender Antivirus off. On an onboarded server none of it matters.
if ($Agent -eq 'none' -or -not $onboarded -or $state -eq 1) {
    Add-CheckResult -Id 'prerequisites' -Status 'not-applicable' -Expected '' -Observed '' -Detail 'no installation to block'
}
else {
    $blocking = @()
    foreach ($key in $Facts.RebootKeys) {
        if (Test-Path -LiteralPath ('HKLM:\' + $key)) {
            $blocking += 'a restart is pending'
        }
    }
    if ($null -ne (Get-Value -Key $Facts.InstallMarkerKey -Name $Facts.InstallMarkerValue)) {
        $blocking += 'install.ps1 waits for a restart'
    }
    if ($Agent -eq 'unified' -and (Get-Value -Key $Facts.DefenderPolicyKey -Name $Facts.AntiSpywareValue) -eq 1) {
        $blocking += ('{0}=1 turns Defender Antivirus off' -f $Facts.AntiSpywareValue)
    }
    if ($blocking.Count -eq 0) {
        Add-CheckResult -Id 'prerequisites' -Status 'pass' -Expected 'none blocking' -Observed '' -Detail 'nothing blocks the agent''s installation'
    }
    else {
        Add-CheckResult -Id 'prerequisites' -Status 'fail' -Expected 'none blocking' -Observed (($blocking | Select-Object -Unique) -join '; ') -Detail ((($blocking | Select-Object -Unique) -join '; ') + '; run Test-MdePrerequisites.ps1 from the downlevel kit')
    }
}

# --- the device tag ----------------------------------------------------------------------------
$tag = [string] (Get-Value -Key $Facts.TagKey -Name $Facts.TagValue)
if (-not $DeviceTag -or -not $onboarded) {
    Add-CheckResult -Id 'device_tag' -Status 'not-applicable' -Expected $DeviceTag -Observed $tag -Detail 'no device tag to compare'
}
elseif ($tag -ceq $DeviceTag) {
    Add-CheckResult -Id 'device_tag' -Status 'pass' -Expected $DeviceTag -Observed $tag -Detail 'tagged as configured'
}
else {
    Add-CheckResult -Id 'device_tag' -Status 'fail' -Expected $DeviceTag -Observed $tag -Detail 'tagged otherwise, or not at all'
}

# --- the down-level agent ------------------------------------------------------------------------
if ($Agent -eq 'unified') {
    $product = $null
    foreach ($key in $Facts.UninstallKeys) {
        foreach ($entry in @(Get-ChildItem -Path ('HKLM:\' + $key) -ErrorAction SilentlyContinue)) {
            $name = [string] $entry.GetValue('DisplayName')
            if ($name -match $Facts.UnifiedName) {
                $product = $entry
            }
        }
    }
    if ($null -ne $product) {
        Add-CheckResult -Id 'agent' -Status 'pass' -Expected 'installed' -Observed ([string] $product.GetValue('DisplayVersion')) -Detail ('{0} {1}' -f $product.GetValue('DisplayName'), $product.GetValue('DisplayVersion'))
    }
    else {
        Add-CheckResult -Id 'agent' -Status ($(if ($onboarded) { 'fail' } else { 'pass' })) -Expected ($(if ($onboarded) { 'installed' } else { 'any' })) -Observed 'absent' -Detail 'the unified agent is not installed'
    }
}
elseif ($Agent -eq 'defenderdt') {
    $log = Join-Path $Facts.DefenderDtLogs ('DefenderDeploymentTool-{0}.log' -f $env:COMPUTERNAME)
    $line = $null
    if (Test-Path -LiteralPath $log) {
        $line = Select-String -LiteralPath $log -Pattern 'completed, exit code: (\d+)' | Select-Object -Last 1
    }
    # 0 done, 2 already onboarded; after offboarding also 3 (nothing to offboard).
    $good = @('0', '2')
    if (-not $onboarded) {
        $good = @('0', '3')
    }
    if ($null -eq $line) {
        Add-CheckResult -Id 'agent' -Status 'not-applicable' -Expected '0' -Observed '' -Detail 'no DefenderDT log with an exit code'
    }
    elseif ($good -contains $line.Matches[0].Groups[1].Value) {
        Add-CheckResult -Id 'agent' -Status 'pass' -Expected '0' -Observed $line.Matches[0].Groups[1].Value -Detail ('DefenderDT: {0}' -f $line.Line.Trim())
    }
    else {
        Add-CheckResult -Id 'agent' -Status 'fail' -Expected '0' -Observed $line.Matches[0].Groups[1].Value -Detail ('DefenderDT: {0}' -f $line.Line.Trim())
    }
}
elseif ($Agent -eq 'mma') {
    $ids = @()
    try {
        $config = New-Object -ComObject $Facts.MmaComClass
        $ids = @($config.GetCloudWorkspaces() | ForEach-Object { [string] $_.workspaceId })
    }
    catch {
        $ids = @()
    }
    $present = $WorkspaceId -and ($ids -contains $WorkspaceId)
    if ($present -eq $onboarded) {
        Add-CheckResult -Id 'agent' -Status 'pass' -Expected $WorkspaceId -Observed ($ids -join ' ') -Detail ('workspaces: {0}' -f ($ids -join ', '))
    }
    else {
        Add-CheckResult -Id 'agent' -Status 'fail' -Expected $WorkspaceId -Observed ($ids -join ' ') -Detail ('workspaces: {0}' -f ($ids -join ', '))
    }
}
else {
    Add-CheckResult -Id 'agent' -Status 'not-applicable' -Expected '' -Observed '' -Detail 'no down-level agent'
}

# --- the result --------------------------------------------------------------------------------
$exitCode = 0
foreach ($check in $Checks) {
    if ($check.status -eq 'fail') {
        $exitCode = $exitCode -bor $check.class
    }
}
$result = [ordered]@{
    schema   = $Facts.SchemaId
    computer = $env:COMPUTERNAME
    time     = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [System.Globalization.CultureInfo]::InvariantCulture)
    expect   = $Expect
    target   = $Target
    release  = $Release
    agent    = $Agent
    result   = $(if ($exitCode -eq 0) { 'pass' } else { 'fail' })
    exitCode = $exitCode
    checks   = @($Checks)
}
$json = $result | ConvertTo-Json -Depth 4 -Compress
if ($ResultPath) {
    $file = Join-Path $ResultPath ('{0}.json' -f $env:COMPUTERNAME)
    [System.IO.File]::WriteAllText($file, $json, (New-Object System.Text.UTF8Encoding($false)))
    Write-Host ('Result: {0} (exit code {1}); written to {2}' -f $result.result, $exitCode, $file)
}
else {
    Write-Host ('Result: {0} (exit code {1})' -f $result.result, $exitCode)
    Write-Output $json
}
exit $exitCode
