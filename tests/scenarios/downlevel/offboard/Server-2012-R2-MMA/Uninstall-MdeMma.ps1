#Requires -Version 2.0
<#
.SYNOPSIS
    Uninstalls the Microsoft Monitoring Agent.

.DESCRIPTION
    Written by mdegen. Finds the agent's product code at run time from the Uninstall keys
    (DisplayName "Microsoft Monitoring Agent") and runs msiexec /x <code> /qn /norestart. It refuses while
    the agent reports to workspaces other than the Defender one (SCOM, Log Analytics): remove the
    Defender workspace with Remove-MdeMmaWorkspace.ps1 instead, or pass -Force. It also refuses
    while SCOM management groups use it, or when it cannot tell. Run it elevated;
    -WhatIf shows what it would do.

    Exit codes: msiexec's, unchanged (0 removed, 3010 removed and a restart is needed, 1603
    failed, 1618 another installation runs); 10 the agent is not installed;
    13 other workspaces use the agent.

.PARAMETER Force
    Uninstall even though other workspaces use the agent.

.PARAMETER Unattended
    Do not ask for confirmation: for a GPO task, a ConfigMgr program or an RMM job, where nobody
    can answer (-Confirm:$false cannot be passed through powershell.exe -File).

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Uninstall-MdeMma.ps1 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
param([switch] $Force, [switch] $Unattended)

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

if ($Unattended) {
    $ConfirmPreference = 'None'
}

$Agent = @{
    WorkspaceId   = '0f0e0d0c-0b0a-4988-8776-655443322110'
    DisplayName   = 'Microsoft Monitoring Agent'
    UninstallKeys = @('SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall', 'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall')
    ComClass      = 'AgentConfigManager.MgmtSvcCfg'
}

$codes = @()
foreach ($key in $Agent.UninstallKeys) {
    foreach ($entry in @(Get-ChildItem -Path ('HKLM:\' + $key) -ErrorAction SilentlyContinue)) {
        if ([string] $entry.GetValue('DisplayName') -eq $Agent.DisplayName -and $entry.PSChildName -match '^\{[0-9A-Fa-f-]{36}\}$') {
            $codes += $entry.PSChildName
        }
    }
}
if ($codes.Count -eq 0) {
    Write-Output ('{0} is not installed: nothing to uninstall' -f $Agent.DisplayName)
    exit 10
}
# What else uses the agent: other Log Analytics workspaces, and SCOM management groups (the SCOM
# agent has the same name). When that cannot be told, the agent stays unless -Force says otherwise.
$others = @()
try {
    $config = New-Object -ComObject $Agent.ComClass
    $others = @($config.GetCloudWorkspaces() | ForEach-Object { [string] $_.workspaceId } | Where-Object { $_ -ne $Agent.WorkspaceId })
    $others += @($config.GetManagementGroups() | ForEach-Object { 'management group ' + [string] $_.managementGroupName })
}
catch {
    $others = @('(could not be listed: {0})' -f $_.Exception.Message)
}
if ($others.Count -gt 0 -and -not $Force) {
    Write-Output ('the agent is also used by {0}: remove only the Defender workspace (Remove-MdeMmaWorkspace.ps1), or pass -Force' -f ($others -join ', '))
    exit 13
}
$exitCode = 0
foreach ($code in $codes) {
    if ($PSCmdlet.ShouldProcess(('{0} {1}' -f $Agent.DisplayName, $code), 'Uninstall')) {
        $process = Start-Process -FilePath (Join-Path $env:SystemRoot 'System32\msiexec.exe') -ArgumentList ('/x {0} /qn /norestart' -f $code) -Wait -PassThru
        Write-Output ('msiexec /x {0} exited with {1}' -f $code, $process.ExitCode)
        if ($process.ExitCode -ne 0) {
            $exitCode = $process.ExitCode
        }
    }
}
exit $exitCode
