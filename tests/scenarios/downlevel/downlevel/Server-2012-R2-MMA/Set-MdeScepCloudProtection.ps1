#Requires -Version 2.0
<#
.SYNOPSIS
    Sets System Center Endpoint Protection's Cloud Protection Service membership to Advanced, as
    the down-level Defender for Endpoint docs ask of servers that keep SCEP beside the Microsoft
    Monitoring Agent.

.DESCRIPTION
    Written by mdegen, for the standalone route (the GPO kit sets the same policy value). The
    script checks that SCEP is installed and that its anti-malware platform has the January 2017
    update (KB3209361), then writes the policy value. The registry location is INFERRED: it
    mirrors Defender Antivirus's MAPS policy and appears in public hardening scripts, not in
    Microsoft's documentation; check the SCEP client's settings afterwards. Run it elevated.
    Exit code 0: the value is set (or SCEP is absent, nothing to do); 1: it could not be set.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Set-MdeScepCloudProtection.ps1 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
param()

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

$Scep = @{
    Engine          = '%ProgramFiles%\Microsoft Security Client\MsMpEng.exe'
    PlatformMinimum = '4.10.209.0'
    PolicyKey       = 'SOFTWARE\Policies\Microsoft\Microsoft Antimalware\SpyNet'
    ValueName       = 'SpyNetReporting'
    Value           = 2
}

$engine = [Environment]::ExpandEnvironmentVariables($Scep.Engine)
if (-not (Test-Path -LiteralPath $engine)) {
    Write-Output ('System Center Endpoint Protection is not installed ({0} is missing): nothing to do' -f $engine)
    exit 0
}
$info = (Get-Item -LiteralPath $engine).VersionInfo
$platform = New-Object System.Version($info.FileMajorPart, $info.FileMinorPart, $info.FileBuildPart, $info.FilePrivatePart)
if ($platform -lt [version] $Scep.PlatformMinimum) {
    Write-Warning ('the SCEP anti-malware platform is {0}, older than {1}: install KB3209361 (January 2017 platform update)' -f $platform, $Scep.PlatformMinimum)
}
else {
    Write-Output ('SCEP anti-malware platform {0}' -f $platform)
}
$path = 'HKLM:\' + $Scep.PolicyKey
$current = Get-ItemProperty -Path $path -Name $Scep.ValueName -ErrorAction SilentlyContinue
if ($null -ne $current -and $current.($Scep.ValueName) -eq $Scep.Value) {
    Write-Output ('{0} is {1} already: nothing to change' -f $Scep.ValueName, $Scep.Value)
    exit 0
}
if ($PSCmdlet.ShouldProcess(('HKLM\{0}' -f $Scep.PolicyKey), ('set {0} = {1} (Advanced)' -f $Scep.ValueName, $Scep.Value))) {
    try {
        if (-not (Test-Path -LiteralPath $path)) {
            New-Item -Path $path -Force | Out-Null
        }
        New-ItemProperty -Path $path -Name $Scep.ValueName -PropertyType DWord -Value $Scep.Value -Force | Out-Null
        Write-Output ('set {0} = {1}: Cloud Protection Service membership Advanced' -f $Scep.ValueName, $Scep.Value)
    }
    catch {
        Write-Output ('could not set {0}: {1}' -f $Scep.ValueName, $_.Exception.Message)
        exit 1
    }
}
exit 0
