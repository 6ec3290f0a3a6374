#Requires -Version 5.1
#Requires -PSEdition Desktop
#Requires -RunAsAdministrator
<#
.SYNOPSIS
    Re-seals a VDI golden image that was onboarded to Microsoft Defender for Endpoint by mistake.

.DESCRIPTION
    An onboarded golden image gives every clone the same device identity, so new machines do not
    show up in the portal. Run this script on the image, in the 64-bit Windows PowerShell 5.1, as
    SYSTEM, from the kit's vdi\reseal\ folder (beside the pool folders vdi\<pool>\):

        PsExec.exe -s -i powershell.exe -ExecutionPolicy Bypass -File <kit>\vdi\reseal\Reset-MdeVdiImage.ps1

    (PsExec is part of Sysinternals.) It refuses to run as any other account, and in a 32-bit
    PowerShell on 64-bit Windows. It:

      1. offboards the image with the portal's offboarding script beside it, when the kit has one
         and the image is onboarded or about to be (the onboarding state, the onboarding
         package's value, or the sensor service running; cmd.exe; exit code 0 = offboarded). A
         kit without one stops here unless -Force is given: configure packages.offboarding in
         mdegen.yaml;
      2. waits (up to about 5 minutes) for the sensor service to stop;
      3. deletes the files of the sensor's cyber-data folder;
      4. deletes the sensor's identity values and key in the registry (64-bit view).

    What is not there is reported as 'absent', which is fine. Every change goes through
    -WhatIf/-Confirm; a second run changes nothing and says so. Do not connect the image to the
    network before it is sealed.

.PARAMETER Force
    Clean up although the kit has no offboarding script (after the image was offboarded another
    way). Not needed when the kit has one.

.EXAMPLE
    PsExec.exe -s -i powershell.exe -ExecutionPolicy Bypass -File C:\Kit\vdi\reseal\Reset-MdeVdiImage.ps1 -WhatIf

    Shows what the script would change, and changes nothing.
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
param(
    [switch] $Force
)

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'

# ---------------------------------------------------------------------------------------------
# Kit contents, written by mdegen. Values are single-quoted literals: PowerShell expands nothing
# inside them.
# ---------------------------------------------------------------------------------------------
$Kit = [pscustomobject]@{
    Organization = 'Contoso Example Ltd'
    Release      = '2026.1.0'
}

# Registry facts (below HKLM, 64-bit view), the service, the folder and how long to wait.
$Image = [pscustomobject]@{
    SenseKey           = 'SOFTWARE\Microsoft\Windows Advanced Threat Protection'
    StatusKey          = 'SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'
    StateValue         = 'OnboardingState'
    AtpKey             = 'SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection'
    PendingValue       = 'OnboardingInfo'
    SenseService       = 'Sense'
    CyberDataFolder    = '%ProgramData%\Microsoft\Windows Defender Advanced Threat Protection\Cyber'
    ResealValues       = @(
        'senseGuid'
        'senseId'
        '2567E824-34AB-4A74-90E9-BC0F8BDFAA4A'
        '7DC0B629-D7F6-4DB3-9BF7-64D5AAF50F1A'
        'C9D38BBB-E9DD-4B27-8E6F-7DE97E68DAB9'
    )
    ResealKeys         = @(
        'SOFTWARE\Microsoft\Windows Advanced Threat Protection\48A68F11-7A16-4180-B32C-7F974C7BD783'
    )
    SystemCommand      = 'PsExec.exe -s -i powershell.exe -ExecutionPolicy Bypass -File'
    ScriptInKit        = 'vdi\reseal\Reset-MdeVdiImage.ps1'
    PowerShell64       = '%SystemRoot%\Sysnative\WindowsPowerShell\v1.0\powershell.exe'
    ServiceWaitSeconds = 300
    PollSeconds        = 5
}

# The portal's offboarding script beside this script, and what its exit codes mean.
$Offboarding = [pscustomobject]@{
    File      = 'WindowsDefenderATPOffboardingScript_valid_until_2099-12-31.cmd'
    ExitCodes = @(
        [pscustomobject]@{ Code = 15; Meaning = 'the sensor service did not stop within 100 seconds after offboarding; restart the image without network access and run this script again' }
        [pscustomobject]@{ Code = 70; Meaning = 'the image is onboarded to another organisation than the one of this offboarding script (Status OrgId differs); use the offboarding script of that organisation' }
    )
    Unknown   = 'see the Application event log (source WDATPOffboarding) and the SENSE event log; SENSE event 29 means the offboarding package has expired (download a new one, it is valid for seven days)'
}

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
$Results = New-Object System.Collections.Generic.List[object]

function Add-Result {
    param([string] $Kind, [string] $Name, [string] $Outcome, [string] $Detail = '')
    $Results.Add([pscustomobject]@{ Object = $Kind; Name = $Name; Outcome = $Outcome; Detail = $Detail })
    Write-Host ('  {0,-16} {1}: {2}' -f $Outcome, $Kind, $Name)
    if ($Detail) {
        Write-Host ('                   {0}' -f $Detail)
    }
}

function Get-SkippedOutcome {
    # ShouldProcess said no: -WhatIf (plan only) or the admin declined at a -Confirm prompt.
    param([string] $Planned)
    if ($WhatIfPreference) {
        return ('would be ' + $Planned)
    }
    return 'skipped'
}

function Stop-VdiReset {
    param([string] $Step, [string] $Object, [string] $Reason, [string] $Fix)
    $message = 'Step "{0}" failed for {1}.{2}Reason: {3}{2}What to do: {4}' -f $Step, $Object, [Environment]::NewLine, $Reason, $Fix
    throw $message
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
$step = 'Check the account'
$object = 'this PowerShell session'
try {
    Write-Host ('mdegen VDI kit: {0}, release {1}: re-seal this image' -f $Kit.Organization, $Kit.Release)
    $scriptPath = $PSCommandPath
    if (-not $scriptPath) {
        $scriptPath = '<kit>\' + $Image.ScriptInKit
    }

    # 0. The 64-bit PowerShell only: a 32-bit one on 64-bit Windows runs the 32-bit cmd.exe and
    #    sees SysWOW64 as System32.
    $step = 'Check the PowerShell host'
    if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) {
        Stop-VdiReset -Step $step -Object $object -Reason 'This is the 32-bit PowerShell on 64-bit Windows (as an MDT or Configuration Manager "Run Command Line" step starts it): Windows redirects its %SystemRoot%\System32 to SysWOW64, so the offboarding script and the clean-up would not run where the sensor lives.' -Fix ('Run the script in the 64-bit Windows PowerShell, as SYSTEM; from a 32-bit process that is {0} -ExecutionPolicy Bypass -File "{1}" (Sysnative reaches the 64-bit System32).' -f $Image.PowerShell64, $scriptPath)
    }
    Add-Result -Kind 'Check' -Name '64-bit PowerShell' -Outcome 'checked'

    # 1. SYSTEM only, before anything else: only SYSTEM may delete the sensor's identity.
    $step = 'Check the account'
    $account = [Security.Principal.WindowsIdentity]::GetCurrent()
    if (-not $account.IsSystem) {
        Stop-VdiReset -Step $step -Object ('account ' + $account.Name) -Reason 'The script must run as SYSTEM: the sensor''s identity values and files can only be deleted by SYSTEM.' -Fix ('Start it from a SYSTEM session: {0} "{1}" (PsExec is part of Sysinternals).' -f $Image.SystemCommand, $scriptPath)
    }
    Add-Result -Kind 'Check' -Name 'running as SYSTEM' -Outcome 'checked'
    if ($WhatIfPreference) {
        Write-Host 'WhatIf: nothing will be changed; the lines below say what would be.'
    }

    # 2. Offboard, when the kit can and the image is onboarded.
    $step = 'Offboard the image'
    $object = 'this computer'
    $hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    $state = $null
    $statusKey = $hklm.OpenSubKey($Image.StatusKey)
    if ($null -ne $statusKey) {
        $state = $statusKey.GetValue($Image.StateValue)
        $statusKey.Close()
    }
    # The onboarding package's value under the policy key: the sensor onboards at its next start.
    $pending = $false
    $atpKey = $hklm.OpenSubKey($Image.AtpKey)
    if ($null -ne $atpKey) {
        $pending = $null -ne $atpKey.GetValue($Image.PendingValue)
        $atpKey.Close()
    }
    $onboarded = ($null -ne $state -and [string] $state -eq '1') -or $pending
    $service = Get-Service -Name $Image.SenseService -ErrorAction SilentlyContinue
    $running = $null -ne $service -and $service.Status -ne 'Stopped'
    if ($null -eq $Offboarding) {
        Write-Warning 'The kit has no offboarding script. Configure one (packages.offboarding in mdegen.yaml, the portal''s Group Policy offboarding package) and regenerate the kit, so that an onboarded image can be offboarded before it is cleaned up.'
        if (-not $Force) {
            Stop-VdiReset -Step $step -Object $object -Reason 'The kit has no offboarding script, and deleting the identity of an onboarded image does not offboard it.' -Fix 'Configure packages.offboarding in mdegen.yaml and regenerate the kit; or offboard the image another way and run this script again with -Force to clean up only.'
        }
        Add-Result -Kind 'Offboarding' -Name 'no offboarding script' -Outcome 'not configured' -Detail '-Force: clean-up only'
    }
    elseif (-not $onboarded -and -not $running) {
        Add-Result -Kind 'Offboarding' -Name $Offboarding.File -Outcome 'unchanged' -Detail ('not onboarded: {0} is not 1, {1} is not set and the {2} service is not running' -f $Image.StateValue, $Image.PendingValue, $Image.SenseService)
    }
    else {
        $object = $Offboarding.File
        if (-not $PSScriptRoot) {
            Stop-VdiReset -Step $step -Object $object -Reason 'The script was not started from a file, so it cannot find the offboarding script.' -Fix ('Run it as a file from the kit: {0} <kit>\{1}' -f $Image.SystemCommand, $Image.ScriptInKit)
        }
        $offboardingPath = Join-Path $PSScriptRoot $Offboarding.File
        if (-not (Test-Path -LiteralPath $offboardingPath -PathType Leaf)) {
            Stop-VdiReset -Step $step -Object $object -Reason ('{0} is missing.' -f $offboardingPath) -Fix 'Run the script from the complete kit folder as mdegen wrote it (the offboarding script sits beside it), then run again.'
        }
        if ($PSCmdlet.ShouldProcess($offboardingPath, 'Run the offboarding script with cmd.exe')) {
            $process = Start-Process -FilePath $env:ComSpec -ArgumentList ('/d /c ""{0}""' -f $offboardingPath) -Wait -PassThru -NoNewWindow
            $code = $process.ExitCode
            if ($code -ne 0) {
                $meaning = $Offboarding.Unknown
                foreach ($known in $Offboarding.ExitCodes) {
                    if ($known.Code -eq $code) {
                        $meaning = $known.Meaning
                    }
                }
                Stop-VdiReset -Step $step -Object $object -Reason ('The offboarding script exited with code {0}: {1}.' -f $code, $meaning) -Fix 'Fix the cause named above and run this script again; the clean-up needs an offboarded image.'
            }
            Add-Result -Kind 'Offboarding' -Name $Offboarding.File -Outcome 'updated' -Detail 'exit code 0: offboarded'
        }
        else {
            Add-Result -Kind 'Offboarding' -Name $Offboarding.File -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'offboarding'
        }
    }

    # 3. The sensor service must be stopped before its identity goes.
    $step = 'Wait for the sensor service to stop'
    $object = 'service ' + $Image.SenseService
    $service = Get-Service -Name $Image.SenseService -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        Add-Result -Kind 'Service' -Name $Image.SenseService -Outcome 'absent'
    }
    elseif ($service.Status -eq 'Stopped') {
        Add-Result -Kind 'Service' -Name $Image.SenseService -Outcome 'stopped'
    }
    elseif ($WhatIfPreference) {
        Add-Result -Kind 'Service' -Name $Image.SenseService -Outcome ([string] $service.Status) -Detail ('would wait up to {0} seconds for it to stop' -f $Image.ServiceWaitSeconds)
    }
    else {
        Write-Host ('  waiting up to {0} seconds for the {1} service to stop ...' -f $Image.ServiceWaitSeconds, $Image.SenseService)
        $waited = 0
        while ($waited -lt $Image.ServiceWaitSeconds -and $service.Status -ne 'Stopped') {
            Start-Sleep -Seconds $Image.PollSeconds
            $waited += $Image.PollSeconds
            $service.Refresh()
        }
        if ($service.Status -ne 'Stopped') {
            Stop-VdiReset -Step $step -Object $object -Reason ('The service is still {0} after {1} seconds.' -f $service.Status, $waited) -Fix 'Offboard the image first: the sensor writes its identity again while it runs. If it was offboarded, restart the image without network access and run this script again.'
        }
        Add-Result -Kind 'Service' -Name $Image.SenseService -Outcome 'stopped' -Detail ('after {0} seconds' -f $waited)
    }

    # 4. The cyber-data files.
    $step = 'Delete the cyber-data files'
    $cyber = [Environment]::ExpandEnvironmentVariables($Image.CyberDataFolder)
    $object = $cyber
    $files = @()
    if (Test-Path -LiteralPath $cyber -PathType Container) {
        $files = @(Get-ChildItem -LiteralPath $cyber -Recurse -File -Force)
    }
    if ($files.Count -eq 0) {
        Add-Result -Kind 'Cyber-data files' -Name $cyber -Outcome 'absent'
    }
    elseif ($PSCmdlet.ShouldProcess($cyber, ('Delete {0} file(s)' -f $files.Count))) {
        foreach ($file in $files) {
            Remove-Item -LiteralPath $file.FullName -Force -Confirm:$false
        }
        Add-Result -Kind 'Cyber-data files' -Name $cyber -Outcome 'updated' -Detail ('{0} file(s) deleted' -f $files.Count)
    }
    else {
        Add-Result -Kind 'Cyber-data files' -Name $cyber -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail ('{0} file(s) to delete' -f $files.Count)
    }

    # 5. The identity values.
    $step = 'Delete the identity values'
    $object = 'HKLM\' + $Image.SenseKey
    $present = @()
    $senseKey = $hklm.OpenSubKey($Image.SenseKey)
    if ($null -ne $senseKey) {
        $present = @($senseKey.GetValueNames())
        $senseKey.Close()
    }
    foreach ($name in $Image.ResealValues) {
        $label = 'HKLM\{0}\{1}' -f $Image.SenseKey, $name
        $object = $label
        if (-not ($present -contains $name)) {
            Add-Result -Kind 'Registry value' -Name $label -Outcome 'absent'
        }
        elseif ($PSCmdlet.ShouldProcess($label, 'Delete registry value')) {
            $writable = $hklm.OpenSubKey($Image.SenseKey, $true)
            $writable.DeleteValue($name, $false)
            $writable.Close()
            Add-Result -Kind 'Registry value' -Name $label -Outcome 'updated' -Detail 'deleted'
        }
        else {
            Add-Result -Kind 'Registry value' -Name $label -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'to delete'
        }
    }

    # 6. The identity keys.
    $step = 'Delete the identity keys'
    foreach ($path in $Image.ResealKeys) {
        $label = 'HKLM\' + $path
        $object = $label
        $sub = $hklm.OpenSubKey($path)
        if ($null -eq $sub) {
            Add-Result -Kind 'Registry key' -Name $label -Outcome 'absent'
            continue
        }
        $sub.Close()
        if ($PSCmdlet.ShouldProcess($label, 'Delete registry key and its subkeys')) {
            $hklm.DeleteSubKeyTree($path, $false)
            Add-Result -Kind 'Registry key' -Name $label -Outcome 'updated' -Detail 'deleted'
        }
        else {
            Add-Result -Kind 'Registry key' -Name $label -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'to delete'
        }
    }
    $hklm.Close()
}
catch {
    $failure = $_
    Write-Host ''
    if (@($Results | Where-Object { $_.Outcome -eq 'created' -or $_.Outcome -eq 'updated' }).Count -gt 0) {
        Write-Host 'Changes made before the error:'
        $Results | Where-Object { $_.Outcome -eq 'created' -or $_.Outcome -eq 'updated' } | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    }
    else {
        Write-Host 'Nothing was changed before the error.'
    }
    if ($failure.Exception.Message.StartsWith('Step "')) {
        throw
    }
    Stop-VdiReset -Step $step -Object $object -Reason $failure.Exception.Message -Fix 'Fix the cause named above and run the script again; finished steps are skipped.'
}

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
Write-Host ''
Write-Host 'Summary'
$Results | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
$changed = @($Results | Where-Object { $_.Outcome -eq 'created' -or $_.Outcome -eq 'updated' })
$planned = @($Results | Where-Object { $_.Outcome -like 'would be *' })
$skipped = @($Results | Where-Object { $_.Outcome -eq 'skipped' })
if ($WhatIfPreference) {
    if ($planned.Count -eq 0) {
        Write-Host 'Nothing to change: the image already matches the kit.'
    }
    else {
        Write-Host ('WhatIf: {0} change(s) would be made; nothing was changed.' -f $planned.Count)
    }
}
elseif ($changed.Count -eq 0 -and $skipped.Count -eq 0) {
    Write-Host 'Nothing to change: the image already matches the kit.'
}
else {
    Write-Host ('{0} change(s) made, {1} declined.' -f $changed.Count, $skipped.Count)
}
Write-Host ''
$declined = @($Results | Where-Object { $_.Outcome -eq 'skipped' })
if ($WhatIfPreference) {
    Write-Host 'WhatIf: the image was not changed. Run the script again without -WhatIf to re-seal it.'
}
elseif ($declined.Count -gt 0) {
    Write-Host 'Some steps were declined, so the image is not re-sealed yet: run the script again and confirm every step.'
}
else {
    Write-Host 'The image can be sealed now: shut it down without connecting it to the network, and capture it.'
}
exit 0
