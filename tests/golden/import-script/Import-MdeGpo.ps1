#Requires -Version 5.1
#Requires -PSEdition Desktop
#Requires -Modules GroupPolicy, ActiveDirectory
<#
.SYNOPSIS
    Imports the mdegen Group Policy kit for Microsoft Defender for Endpoint into an Active Directory domain.

.DESCRIPTION
    Run this script from the kit folder (the folder that holds GPOs\, PolicyDefinitions\ and
    WmiFilters\) on a computer with the Group Policy Management and Active Directory PowerShell
    tools, as a member of Domain Admins or with equivalent delegated rights. It:

      1. creates each WMI filter of the kit that the domain does not have yet;
      2. imports each GPO backup (Import-GPO -BackupId ... -TargetName ... -CreateIfNeeded),
         only when the GPO is missing or its settings differ from the backup;
      3. attaches each GPO's WMI filter when it is not attached, and only a filter that exists
         (found in the domain, or created in step 1 of this run);
      4. links GPOs to the OUs given in -LinkOU, only where no link exists yet (links are
         created disabled unless -EnableLinks is given; existing links are never changed);
      5. copies the administrative template (ADMX/ADML) to the domain's central store when the
         central store exists and the files differ.

    Every change goes through -WhatIf/-Confirm. A second run changes nothing and says so.
    The script stops at the first error and says which step failed and what to do; steps that
    finished are skipped when it is run again.

    All domain operations use one domain controller: -Server, or the PDC emulator.

    Run it in Windows PowerShell 5.1 (powershell.exe), not in PowerShell 7 (pwsh.exe), which
    refuses to start it (#Requires -PSEdition Desktop): PowerShell 7 runs the GroupPolicy module
    through its Windows PowerShell compatibility layer and gets copies of the GPOs, on which
    setting the description changes nothing.

    If the kit was copied from another computer, unblock its files first:
    Get-ChildItem -Recurse | Unblock-File

    The offboarding GPO is never linked unless its name is given in -LinkOU, and its link is
    always created disabled. Never link it where an onboarding GPO applies.

.PARAMETER Domain
    DNS name of the Active Directory domain, e.g. corp.example.com.

.PARAMETER LinkOU
    GPOs to link: a hashtable from a GPO display name, or an onboarding target name, to the
    distinguished name of an OU (or an array of them).
    Example: @{ '<GPO name or target name>' = 'OU=Servers,DC=corp,DC=example,DC=com' }

.PARAMETER EnableLinks
    Create the links of onboarding GPOs enabled. Without it new links are created disabled, to
    be enabled in the Group Policy Management Console after review.

.PARAMETER SkipCentralStore
    Do not copy the ADMX/ADML files to the central store.

.PARAMETER Server
    The domain controller to use. Default: the domain's PDC emulator.

.EXAMPLE
    .\Import-MdeGpo.ps1 -Domain corp.example.com -WhatIf

    Shows what the script would change, and changes nothing.

.EXAMPLE
    .\Import-MdeGpo.ps1 -Domain corp.example.com -LinkOU @{ '<GPO name or target name>' = 'OU=Servers,DC=corp,DC=example,DC=com' }
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
param(
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$')]
    [string] $Domain,

    [hashtable] $LinkOU = @{},

    [switch] $EnableLinks,

    [switch] $SkipCentralStore,

    [string] $Server = ''
)

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'

# ---------------------------------------------------------------------------------------------
# Kit contents, written by mdegen. Values are single-quoted literals: PowerShell expands nothing
# inside them.
# ---------------------------------------------------------------------------------------------
$Kit = [pscustomobject]@{
    Organization = 'Contoso & O’’Neil "Labs" $corp 100%'
    Release      = '2025.06 ‘‘rc1’’ `beta`'
}

$WmiFilters = @(
    [pscustomobject]@{
        Id          = '{54073B66-DAFC-57EE-8875-8D53B5ACFC6B}'
        Name        = 'MDE Server 2019 ($ & %)'
        Description = 'Windows Server 2019; won''t match ‚‚clients‛‛ `n <b>'
        Namespace   = 'root\CIMv2'
        Query       = 'SELECT * FROM Win32_OperatingSystem WHERE Version LIKE "10.0.17763%" AND ProductType <> 1'
    }
    [pscustomobject]@{
        Id          = '{B9653962-29EC-5CD9-BC81-7B87ECC22BA2}'
        Name        = 'MDE Server 2022 & later'
        Description = ''
        Namespace   = 'root\CIMv2'
        Query       = 'SELECT * FROM Win32_OperatingSystem WHERE Version LIKE ''10.0.2%'' AND ProductType <> 1'
    }
)

$Gpos = @(
    [pscustomobject]@{
        Role          = 'onboarding'
        DisplayName   = 'MDE Onboarding O''Brien & Sons’’ "2019"'
        Description   = 'Onboards $env:COMPUTERNAME `n %PATH% <b> & ''x'' ’’y’’ "z"'
        BackupId      = '{86A70E37-356C-5944-BF6C-D78D5958A32D}'
        TargetName    = 'Windows Server 2019'
        WmiFilterName = 'MDE Server 2019 ($ & %)'
    }
    [pscustomobject]@{
        Role          = 'onboarding'
        DisplayName   = 'MDE Onboarding 2022 $(Get-Date) `$x'
        Description   = 'Second <onboarding> GPO; 50% & more'
        BackupId      = '{CA9A6A39-9931-5B66-AC70-6A4BF77FE583}'
        TargetName    = 'Windows Server 2022 & later'
        WmiFilterName = 'MDE Server 2022 & later'
    }
    [pscustomobject]@{
        Role          = 'offboarding'
        DisplayName   = 'MDE Offboarding ’’$(Remove-Item C:\)’’'
        Description   = 'Offboards; never link where onboarding applies: "never" `$x <y> 100%'
        BackupId      = '{B1AED452-C404-530B-9E8F-DE7C88D4D487}'
        TargetName    = $null
        WmiFilterName = $null
    }
)

# ADMX/ADML files, relative to the kit's PolicyDefinitions folder and to the central store.
$AdmxFiles = @(
    'MdegenDefenderForEndpoint.admx'
    'en-US\MdegenDefenderForEndpoint.adml'
)

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

function Stop-Import {
    param([string] $Step, [string] $Object, [string] $Reason, [string] $Fix)
    $message = 'Step "{0}" failed for {1}.{2}Reason: {3}{2}What to do: {4}' -f $Step, $Object, [Environment]::NewLine, $Reason, $Fix
    throw $message
}

function Get-AdValue {
    # An attribute of an AD object, or $null when it is not set (StrictMode-safe).
    param($Object, [string] $Name)
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) {
        return $null
    }
    return $property.Value
}

function Test-SameDn {
    param([string] $A, [string] $B)
    return [string]::Equals($A.Trim(), $B.Trim(), [StringComparison]::OrdinalIgnoreCase)
}

function Test-DnWithin {
    # True when $Inner is $Outer or lies below it.
    param([string] $Inner, [string] $Outer)
    $i = $Inner.Trim()
    $o = $Outer.Trim()
    if ([string]::Equals($i, $o, [StringComparison]::OrdinalIgnoreCase)) {
        return $true
    }
    return $i.EndsWith(',' + $o, [StringComparison]::OrdinalIgnoreCase)
}

function ConvertTo-WmiRuleString {
    # msWMI-Parm2 for one WQL rule, as the Group Policy Management Console writes it:
    # <rule count>;<len(language)>;<len(namespace)>;<len(query)>;<language>;<namespace>;<query>;
    param([string] $Namespace, [string] $Query)
    $language = 'WQL'
    return ('1;{0};{1};{2};{3};{4};{5};' -f $language.Length, $Namespace.Length, $Query.Length, $language, $Namespace, $Query)
}

function ConvertFrom-WmiRuleString {
    # The single rule of an msWMI-Parm2 value, or $null when it is not exactly one rule.
    param([string] $Value)
    if (-not $Value) {
        return $null
    }
    $m = [regex]::Match($Value, '^1;(\d+);(\d+);(\d+);')
    if (-not $m.Success) {
        return $null
    }
    $lengths = @([int] $m.Groups[1].Value, [int] $m.Groups[2].Value, [int] $m.Groups[3].Value)
    $pos = $m.Length
    $parts = @()
    foreach ($len in $lengths) {
        if ($pos + $len + 1 -gt $Value.Length -or $Value[$pos + $len] -ne ';') {
            return $null
        }
        $parts += $Value.Substring($pos, $len)
        $pos += $len + 1
    }
    if ($pos -ne $Value.Length) {
        return $null
    }
    return [pscustomobject]@{ Language = $parts[0]; Namespace = $parts[1]; Query = $parts[2] }
}

function Get-FileTable {
    # Relative path (lower case) -> SHA-256 of every file below $Root\Machine and $Root\User.
    param([string] $Root)
    $table = @{}
    if (-not (Test-Path -LiteralPath $Root -PathType Container)) {
        return $table
    }
    foreach ($half in @('Machine', 'User')) {
        $dir = Join-Path $Root $half
        if (-not (Test-Path -LiteralPath $dir -PathType Container)) {
            continue
        }
        $base = (Get-Item -LiteralPath $Root -Force).FullName.TrimEnd('\')
        foreach ($file in @(Get-ChildItem -LiteralPath $dir -Recurse -File -Force)) {
            $relative = $file.FullName.Substring($base.Length + 1).ToLowerInvariant()
            $table[$relative] = (Get-FileHash -LiteralPath $file.FullName -Algorithm SHA256).Hash
        }
    }
    return $table
}

function Compare-GpoFiles {
    # Files that differ between a backup's DomainSysvol\GPO folder and the GPO's SYSVOL folder.
    param([string] $BackupRoot, [string] $SysvolRoot)
    $want = Get-FileTable -Root $BackupRoot
    $have = Get-FileTable -Root $SysvolRoot
    $differences = @()
    foreach ($key in @($want.Keys | Sort-Object)) {
        if (-not $have.ContainsKey($key)) {
            $differences += ('missing ' + $key)
        }
        elseif ($have[$key] -ne $want[$key]) {
            $differences += ('changed ' + $key)
        }
    }
    foreach ($key in @($have.Keys | Sort-Object)) {
        if (-not $want.ContainsKey($key)) {
            $differences += ('extra ' + $key)
        }
    }
    return , $differences
}

function Get-LinkTargets {
    # The OUs -LinkOU asks for this GPO: by display name, or (onboarding only) by target name.
    param($Gpo)
    $targets = @()
    $names = @($Gpo.DisplayName)
    if ($Gpo.Role -eq 'onboarding' -and $null -ne $Gpo.TargetName) {
        $names += $Gpo.TargetName
    }
    foreach ($key in @($LinkOU.Keys)) {
        foreach ($name in $names) {
            if ([string]::Equals([string] $key, $name, [StringComparison]::OrdinalIgnoreCase)) {
                foreach ($ou in @($LinkOU[$key])) {
                    $already = @($targets | Where-Object { Test-SameDn -A $_ -B ([string] $ou) })
                    if ($already.Count -eq 0) {
                        $targets += ([string] $ou).Trim()
                    }
                }
            }
        }
    }
    return , $targets
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
$step = 'Check the kit'
$object = 'the kit folder'
try {
    Write-Host ('mdegen Group Policy kit: {0}, release {1}' -f $Kit.Organization, $Kit.Release)

    # 1. The kit's own files.
    $kitRoot = $PSScriptRoot
    if (-not $kitRoot) {
        Stop-Import -Step $step -Object $object -Reason 'The script was not started from a file, so it cannot find the kit.' -Fix 'Run it as a file from the kit folder: .\Import-MdeGpo.ps1 -Domain <DNS name>'
    }
    $backupRoot = Join-Path $kitRoot 'GPOs'
    $admxRoot = Join-Path $kitRoot 'PolicyDefinitions'
    foreach ($def in $Gpos) {
        $object = 'backup {0} of GPO ''{1}''' -f $def.BackupId, $def.DisplayName
        foreach ($name in @('Backup.xml', 'bkupInfo.xml')) {
            $path = Join-Path (Join-Path $backupRoot $def.BackupId) $name
            if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
                Stop-Import -Step $step -Object $object -Reason ('{0} is missing.' -f $path) -Fix 'Run the script from the complete kit folder as mdegen wrote it (GPOs\ must sit beside the script); copy the whole folder again if files are missing.'
            }
        }
    }
    foreach ($relative in $AdmxFiles) {
        $object = $relative
        $path = Join-Path $admxRoot $relative
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
            Stop-Import -Step $step -Object $object -Reason ('{0} is missing.' -f $path) -Fix 'Copy the complete kit folder, including PolicyDefinitions\, and run the script again.'
        }
    }

    # 2. -LinkOU: every key must name a GPO of the kit; offboarding must not overlap onboarding.
    $step = 'Check -LinkOU'
    $validKeys = @()
    foreach ($def in $Gpos) {
        $validKeys += $def.DisplayName
        if ($def.Role -eq 'onboarding' -and $null -ne $def.TargetName) {
            $validKeys += $def.TargetName
        }
    }
    foreach ($key in @($LinkOU.Keys)) {
        $object = '-LinkOU key ''{0}''' -f $key
        $known = @($validKeys | Where-Object { [string]::Equals($_, [string] $key, [StringComparison]::OrdinalIgnoreCase) })
        if ($known.Count -eq 0) {
            Stop-Import -Step $step -Object $object -Reason 'It names no GPO of this kit.' -Fix ('Use one of: ''{0}''.' -f ($validKeys -join ''', '''))
        }
        foreach ($ou in @($LinkOU[$key])) {
            if (-not ([string] $ou).Trim()) {
                Stop-Import -Step $step -Object $object -Reason 'The OU is empty.' -Fix 'Give the distinguished name of an OU, e.g. OU=Servers,DC=corp,DC=example,DC=com.'
            }
        }
    }
    $onboardingTargets = @()
    foreach ($def in @($Gpos | Where-Object { $_.Role -eq 'onboarding' })) {
        $onboardingTargets += Get-LinkTargets -Gpo $def
    }
    foreach ($def in @($Gpos | Where-Object { $_.Role -eq 'offboarding' })) {
        foreach ($ou in (Get-LinkTargets -Gpo $def)) {
            foreach ($onboardingOu in $onboardingTargets) {
                if ((Test-DnWithin -Inner $ou -Outer $onboardingOu) -or (Test-DnWithin -Inner $onboardingOu -Outer $ou)) {
                    $object = 'offboarding GPO ''{0}''' -f $def.DisplayName
                    Stop-Import -Step $step -Object $object -Reason ('Its OU {0} overlaps {1}, where an onboarding GPO is linked in this run.' -f $ou, $onboardingOu) -Fix 'Link the offboarding GPO only to an OU that holds servers to offboard and no onboarding GPO applies to; run again without that -LinkOU entry.'
                }
            }
        }
    }

    # 3. Domain and domain controller.
    $step = 'Find the domain'
    $object = 'domain ' + $Domain
    try {
        if ($Server) {
            $domainInfo = Get-ADDomain -Identity $Domain -Server $Server
            $dc = $Server
        }
        else {
            $domainInfo = Get-ADDomain -Identity $Domain
            $dc = $domainInfo.PDCEmulator
        }
    }
    catch {
        Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check the DNS name given in -Domain, that a domain controller answers (-Server), and that you are signed in with a domain account.'
    }
    $dns = $domainInfo.DNSRoot
    $domainDn = $domainInfo.DistinguishedName
    $sysvol = '\\{0}\SYSVOL\{1}' -f $dc, $dns
    Write-Host ('Domain {0} ({1}), domain controller {2}' -f $dns, $domainDn, $dc)
    if ($WhatIfPreference) {
        Write-Host 'WhatIf: nothing will be changed; the lines below say what would be.'
    }

    foreach ($key in @($LinkOU.Keys)) {
        foreach ($ou in @($LinkOU[$key])) {
            $object = 'OU ' + ([string] $ou).Trim()
            if (-not (Test-DnWithin -Inner ([string] $ou) -Outer $domainDn)) {
                Stop-Import -Step 'Check -LinkOU' -Object $object -Reason ('It is not in domain {0}.' -f $domainDn) -Fix 'Give OUs of the domain named in -Domain, as distinguished names.'
            }
            try {
                $null = Get-ADObject -Identity ([string] $ou).Trim() -Server $dc
            }
            catch {
                Stop-Import -Step 'Check -LinkOU' -Object $object -Reason $_.Exception.Message -Fix 'Check the distinguished name (Get-ADOrganizationalUnit -Filter * | Select-Object DistinguishedName) and run again.'
            }
        }
    }

    # 4. WMI filters: find by name; create when missing; never change an existing one.
    Write-Host ''
    Write-Host 'WMI filters'
    $step = 'Create WMI filters'
    $somBase = 'CN=SOM,CN=WMIPolicy,CN=System,' + $domainDn
    $filterIds = @{}
    foreach ($filter in $WmiFilters) {
        $object = 'WMI filter ''{0}''' -f $filter.Name
        try {
            $existing = @(Get-ADObject -SearchBase $somBase -SearchScope OneLevel -LDAPFilter '(objectClass=msWMI-Som)' -Properties 'msWMI-Name', 'msWMI-Parm2', 'msWMI-ID' -Server $dc | Where-Object { [string] (Get-AdValue -Object $_ -Name 'msWMI-Name') -eq $filter.Name })
        }
        catch {
            Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix ('Check that {0} exists and that you can read it (WMI filters need a domain prepared for Windows Server 2003 or later).' -f $somBase)
        }
        if ($existing.Count -gt 1) {
            Stop-Import -Step $step -Object $object -Reason ('{0} WMI filters have this name.' -f $existing.Count) -Fix 'Delete or rename the duplicates in the Group Policy Management Console (WMI Filters), then run again.'
        }
        if ($existing.Count -eq 1) {
            $currentRule = [string] (Get-AdValue -Object $existing[0] -Name 'msWMI-Parm2')
            $rule = ConvertFrom-WmiRuleString -Value $currentRule
            $same = $null -ne $rule -and $rule.Language -eq 'WQL' -and [string]::Equals($rule.Namespace, $filter.Namespace, [StringComparison]::OrdinalIgnoreCase) -and [string]::Equals($rule.Query, $filter.Query, [StringComparison]::Ordinal)
            if (-not $same) {
                Stop-Import -Step $step -Object $object -Reason ('The domain has a filter of this name with another query: {0}. The kit expects: {1};{2}' -f $currentRule, $filter.Namespace, $filter.Query) -Fix 'The script does not change existing WMI filters. Set the expected query on the filter in the Group Policy Management Console, or rename the existing filter, then run again.'
            }
            $filterIds[$filter.Name] = [string] (Get-AdValue -Object $existing[0] -Name 'msWMI-ID')
            Add-Result -Kind 'WMI filter' -Name $filter.Name -Outcome 'unchanged'
            continue
        }
        $clash = @(Get-ADObject -SearchBase $somBase -SearchScope OneLevel -LDAPFilter ('(msWMI-ID={0})' -f $filter.Id) -Properties 'msWMI-Name' -Server $dc)
        if ($clash.Count -gt 0) {
            Stop-Import -Step $step -Object $object -Reason ('The filter with this kit''s ID {0} exists under the name ''{1}''.' -f $filter.Id, (Get-AdValue -Object $clash[0] -Name 'msWMI-Name')) -Fix 'Rename that filter back in the Group Policy Management Console, or delete it if nothing uses it, then run again.'
        }
        if ($PSCmdlet.ShouldProcess(('WMI filter ''{0}'' in {1}' -f $filter.Name, $dns), 'Create')) {
            # msWMI-CreationDate/ChangeDate as GPMC writes them (UTC, Gregorian whatever the culture).
            $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddHHmmss.ffffff', [Globalization.CultureInfo]::InvariantCulture) + '-000'
            $attributes = @{
                'msWMI-Name'         = $filter.Name
                'msWMI-ID'           = $filter.Id
                'msWMI-Parm2'        = ConvertTo-WmiRuleString -Namespace $filter.Namespace -Query $filter.Query
                'msWMI-Author'       = '{0}@{1}' -f $env:USERNAME, $dns
                'msWMI-CreationDate' = $stamp
                'msWMI-ChangeDate'   = $stamp
            }
            if ($filter.Description) {
                $attributes['msWMI-Parm1'] = $filter.Description
            }
            try {
                New-ADObject -Name $filter.Id -Type 'msWMI-Som' -Path $somBase -OtherAttributes $attributes -Server $dc -Confirm:$false
            }
            catch {
                Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix ('You need the right to create msWMI-Som objects in {0} (Domain Admins, or delegated in the Group Policy Management Console under WMI Filters > Delegation). If the error says the object or attribute is owned by the system, the domain controller refuses system-only changes (seen on domains from the Windows Server 2003 era): create the filter by importing the kit''s WmiFilters\*.mof in the Group Policy Management Console, then run again.' -f $somBase)
            }
            # Only a filter that exists is attached (step 5c): a GPO whose gPCWQLFilter names a
            # missing filter applies to every computer in its OUs.
            $filterIds[$filter.Name] = $filter.Id
            Add-Result -Kind 'WMI filter' -Name $filter.Name -Outcome 'created' -Detail $filter.Query
        }
        else {
            Add-Result -Kind 'WMI filter' -Name $filter.Name -Outcome (Get-SkippedOutcome -Planned 'created') -Detail $filter.Query
        }
    }

    # 5. GPOs: import when missing or different; description; WMI filter; links.
    Write-Host ''
    Write-Host 'GPOs'
    $step = 'Read the GPOs of the domain'
    $object = 'domain ' + $dns
    $allGpos = @(Get-GPO -All -Domain $dns -Server $dc)
    foreach ($def in $Gpos) {
        $object = 'GPO ''{0}''' -f $def.DisplayName
        if ($def.Role -eq 'offboarding') {
            Write-Warning ('''{0}'' offboards every server it applies to. Never link it where an onboarding GPO applies; link it only to servers you mean to offboard, and enable the link deliberately.' -f $def.DisplayName)
        }

        # 5a. Import the backup.
        $step = 'Import GPO backup'
        $found = @($allGpos | Where-Object { $_.DisplayName -eq $def.DisplayName })
        if ($found.Count -gt 1) {
            Stop-Import -Step $step -Object $object -Reason ('{0} GPOs have this name.' -f $found.Count) -Fix 'Rename or delete the duplicates in the Group Policy Management Console, then run again.'
        }
        $backupGpoDir = Join-Path (Join-Path (Join-Path $backupRoot $def.BackupId) 'DomainSysvol') 'GPO'
        $gpo = $null
        $created = $false
        if ($found.Count -eq 0) {
            if ($PSCmdlet.ShouldProcess(('GPO ''{0}'' in {1}' -f $def.DisplayName, $dns), ('Create from backup {0}' -f $def.BackupId))) {
                try {
                    $gpo = Import-GPO -BackupId $def.BackupId -Path $backupRoot -TargetName $def.DisplayName -CreateIfNeeded -Domain $dns -Server $dc -Confirm:$false
                }
                catch {
                    Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check that you may create GPOs (Domain Admins or Group Policy Creator Owners) and that the kit folder is complete, then run again.'
                }
                $created = $true
                Add-Result -Kind 'GPO' -Name $def.DisplayName -Outcome 'created' -Detail ('from backup ' + $def.BackupId)
            }
            else {
                Add-Result -Kind 'GPO' -Name $def.DisplayName -Outcome (Get-SkippedOutcome -Planned 'created') -Detail ('from backup ' + $def.BackupId)
            }
        }
        else {
            $gpo = $found[0]
            $gpoFolder = '{0}\Policies\{1}' -f $sysvol, $gpo.Id.ToString('B').ToUpperInvariant()
            try {
                $differences = Compare-GpoFiles -BackupRoot $backupGpoDir -SysvolRoot $gpoFolder
            }
            catch {
                Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix ('Check that {0} is reachable and readable, then run again.' -f $gpoFolder)
            }
            if ($differences.Count -eq 0) {
                Add-Result -Kind 'GPO' -Name $def.DisplayName -Outcome 'unchanged'
            }
            elseif ($PSCmdlet.ShouldProcess(('GPO ''{0}'' in {1}' -f $def.DisplayName, $dns), ('Replace its settings with backup {0} ({1})' -f $def.BackupId, ($differences -join ', ')))) {
                try {
                    $gpo = Import-GPO -BackupId $def.BackupId -Path $backupRoot -TargetGuid $gpo.Id -Domain $dns -Server $dc -Confirm:$false
                }
                catch {
                    Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check that you may edit this GPO (GPMC > Delegation) and that the kit folder is complete, then run again.'
                }
                Add-Result -Kind 'GPO' -Name $def.DisplayName -Outcome 'updated' -Detail ('settings replaced from backup: ' + ($differences -join ', '))
            }
            else {
                Add-Result -Kind 'GPO' -Name $def.DisplayName -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail ('settings differ from backup: ' + ($differences -join ', '))
            }
        }

        # 5b. Description (the GPO comment).
        $step = 'Set GPO description'
        if ($null -ne $gpo -and -not [string]::Equals([string] $gpo.Description, $def.Description, [StringComparison]::Ordinal)) {
            if ($PSCmdlet.ShouldProcess(('GPO ''{0}''' -f $def.DisplayName), 'Set description')) {
                try {
                    $gpo.Description = $def.Description
                    $written = [string] (Get-GPO -Guid $gpo.Id -Domain $dns -Server $dc).Description
                }
                catch {
                    Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check that you may edit this GPO, then run again.'
                }
                if (-not [string]::Equals($written, $def.Description, [StringComparison]::Ordinal)) {
                    Stop-Import -Step $step -Object $object -Reason ('The description reads back as ''{0}'' after it was set.' -f $written) -Fix 'Run the script in Windows PowerShell 5.1 (powershell.exe) on a computer with the Group Policy Management tools, or set the comment in the Group Policy Management Console (GPO > Properties > Comment), then run again.'
                }
                if (-not $created) {
                    Add-Result -Kind 'GPO description' -Name $def.DisplayName -Outcome 'updated'
                }
            }
            elseif (-not $created) {
                Add-Result -Kind 'GPO description' -Name $def.DisplayName -Outcome (Get-SkippedOutcome -Planned 'updated')
            }
        }

        # 5c. WMI filter: gPCWQLFilter = [<domain>;<filter ID>;0] on the GPO's AD object.
        $step = 'Attach WMI filter'
        if ($null -ne $def.WmiFilterName) {
            $label = '{0} -> {1}' -f $def.DisplayName, $def.WmiFilterName
            if ($null -eq $gpo) {
                Add-Result -Kind 'WMI filter link' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
            }
            elseif (-not $filterIds.ContainsKey($def.WmiFilterName)) {
                # The WMI filter step did not create it (-WhatIf, or declined at -Confirm): an ID that
                # names no filter would make the GPO apply to every computer in its OUs.
                Add-Result -Kind 'WMI filter link' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail ('WMI filter ''{0}'' does not exist in the domain yet; it is attached only once it exists' -f $def.WmiFilterName)
            }
            else {
                $filterId = $filterIds[$def.WmiFilterName]
                $expected = '[{0};{1};0]' -f $dns, $filterId
                $gpoDn = 'CN={0},CN=Policies,CN=System,{1}' -f $gpo.Id.ToString('B').ToUpperInvariant(), $domainDn
                try {
                    $current = [string] (Get-AdValue -Object (Get-ADObject -Identity $gpoDn -Properties 'gPCWQLFilter' -Server $dc) -Name 'gPCWQLFilter')
                }
                catch {
                    Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check that the GPO exists on the domain controller and that you can read it, then run again.'
                }
                $m = [regex]::Match($current, '^\[[^;]*;(\{[0-9A-Fa-f-]+\});\d+\]$')
                if ($m.Success -and [string]::Equals($m.Groups[1].Value, $filterId, [StringComparison]::OrdinalIgnoreCase)) {
                    Add-Result -Kind 'WMI filter link' -Name $label -Outcome 'unchanged'
                }
                elseif ($current) {
                    Stop-Import -Step $step -Object $object -Reason ('Another WMI filter is attached ({0}); the kit expects ''{1}'' ({2}).' -f $current, $def.WmiFilterName, $filterId) -Fix ('The script does not replace a WMI filter someone chose. In the Group Policy Management Console, on the GPO''s Scope tab, select the WMI filter ''{0}'' (or none), then run again.' -f $def.WmiFilterName)
                }
                elseif ($PSCmdlet.ShouldProcess(('GPO ''{0}''' -f $def.DisplayName), ('Attach WMI filter ''{0}''' -f $def.WmiFilterName))) {
                    try {
                        Set-ADObject -Identity $gpoDn -Replace @{ gPCWQLFilter = $expected } -Server $dc -Confirm:$false
                    }
                    catch {
                        Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check that you may edit this GPO, or attach the filter in the Group Policy Management Console (Scope tab), then run again.'
                    }
                    Add-Result -Kind 'WMI filter link' -Name $label -Outcome 'created'
                }
                else {
                    Add-Result -Kind 'WMI filter link' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
                }
            }
        }

        # 5d. Links: create missing ones only; never change an existing link.
        $step = 'Link GPO'
        $linkEnabled = 'No'
        if ($EnableLinks -and $def.Role -eq 'onboarding') {
            $linkEnabled = 'Yes'
        }
        foreach ($ou in (Get-LinkTargets -Gpo $def)) {
            $object = 'link of GPO ''{0}'' to {1}' -f $def.DisplayName, $ou
            $label = '{0} -> {1}' -f $def.DisplayName, $ou
            $enabledText = 'link enabled: ' + $linkEnabled
            if ($null -eq $gpo) {
                Add-Result -Kind 'GPO link' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail $enabledText
                continue
            }
            try {
                $links = @((Get-GPInheritance -Target $ou -Domain $dns -Server $dc).GpoLinks | Where-Object { $_.GpoId -eq $gpo.Id })
            }
            catch {
                Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check the OU''s distinguished name and that you can read its links, then run again.'
            }
            if ($links.Count -gt 0) {
                Add-Result -Kind 'GPO link' -Name $label -Outcome 'unchanged' -Detail ('existing link left as it is (enabled: {0})' -f $links[0].Enabled)
                continue
            }
            if ($def.Role -eq 'offboarding') {
                # Links made in earlier runs, or on a parent OU or the domain, count too: the
                # OU's inherited links show every onboarding GPO that already reaches it.
                $onboardingNames = @($Gpos | Where-Object { $_.Role -eq 'onboarding' } | ForEach-Object { $_.DisplayName })
                try {
                    $reaching = @((Get-GPInheritance -Target $ou -Domain $dns -Server $dc).InheritedGpoLinks | Where-Object { $onboardingNames -contains $_.DisplayName })
                }
                catch {
                    Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check the OU''s distinguished name and that you can read its links, then run again.'
                }
                if ($reaching.Count -gt 0) {
                    Stop-Import -Step $step -Object $object -Reason ('Onboarding GPO ''{0}'' already applies to {1}: servers there would be offboarded and onboarded again at every refresh.' -f $reaching[0].DisplayName, $ou) -Fix 'Unlink the onboarding GPO from this OU and its parents (or move the servers to offboard into an OU it does not reach), then run again.'
                }
            }
            if ($PSCmdlet.ShouldProcess($ou, ('Link GPO ''{0}'' ({1})' -f $def.DisplayName, $enabledText))) {
                try {
                    $null = New-GPLink -Guid $gpo.Id -Target $ou -LinkEnabled $linkEnabled -Domain $dns -Server $dc -Confirm:$false
                }
                catch {
                    Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check that you may link GPOs to this OU (GPMC > the OU > Delegation), then run again.'
                }
                Add-Result -Kind 'GPO link' -Name $label -Outcome 'created' -Detail $enabledText
                if ($def.Role -eq 'offboarding') {
                    Write-Warning ('Offboarding GPO ''{0}'' is now linked to {1} (link disabled). Enable the link only when the servers in that OU are to be offboarded.' -f $def.DisplayName, $ou)
                }
            }
            else {
                Add-Result -Kind 'GPO link' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail $enabledText
            }
        }
    }

    # 6. Central store: copy ADMX/ADML only where it exists and the file differs.
    Write-Host ''
    Write-Host 'Administrative template'
    $step = 'Copy ADMX/ADML to the central store'
    $store = '{0}\Policies\PolicyDefinitions' -f $sysvol
    if ($SkipCentralStore) {
        Write-Host '  skipped (-SkipCentralStore)'
    }
    elseif (-not (Test-Path -LiteralPath $store -PathType Container)) {
        Write-Host ('  The domain has no central store ({0}); not created. Editors use each computer''s local PolicyDefinitions folder: copy the kit''s PolicyDefinitions files there, or create the central store first and run again.' -f $store)
    }
    else {
        foreach ($relative in $AdmxFiles) {
            $object = $relative
            $source = Join-Path $admxRoot $relative
            $target = Join-Path $store $relative
            try {
                $exists = Test-Path -LiteralPath $target -PathType Leaf
                $same = $exists -and ((Get-FileHash -LiteralPath $source -Algorithm SHA256).Hash -eq (Get-FileHash -LiteralPath $target -Algorithm SHA256).Hash)
            }
            catch {
                Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix ('Check that {0} is readable, then run again.' -f $store)
            }
            if ($same) {
                Add-Result -Kind 'Central store' -Name $relative -Outcome 'unchanged'
                continue
            }
            $outcome = 'created'
            if ($exists) {
                $outcome = 'updated'
            }
            if ($PSCmdlet.ShouldProcess($target, 'Copy ' + $relative)) {
                try {
                    $folder = Split-Path -Path $target -Parent
                    if (-not (Test-Path -LiteralPath $folder -PathType Container)) {
                        $null = New-Item -ItemType Directory -Path $folder -Confirm:$false
                    }
                    Copy-Item -LiteralPath $source -Destination $target -Force -Confirm:$false
                }
                catch {
                    Stop-Import -Step $step -Object $object -Reason $_.Exception.Message -Fix ('Check that you may write to {0} (Domain Admins), or use -SkipCentralStore and copy the files by hand, then run again.' -f $store)
                }
                Add-Result -Kind 'Central store' -Name $relative -Outcome $outcome
            }
            else {
                Add-Result -Kind 'Central store' -Name $relative -Outcome (Get-SkippedOutcome -Planned $outcome)
            }
        }
    }
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
    Stop-Import -Step $step -Object $object -Reason $failure.Exception.Message -Fix 'Fix the cause named above and run the script again; finished steps are skipped.'
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
        Write-Host 'Nothing to change: the domain already matches the kit.'
    }
    else {
        Write-Host ('WhatIf: {0} change(s) would be made; nothing was changed.' -f $planned.Count)
    }
}
elseif ($changed.Count -eq 0 -and $skipped.Count -eq 0) {
    Write-Host 'Nothing to change: the domain already matches the kit.'
}
else {
    Write-Host ('{0} change(s) made, {1} declined.' -f $changed.Count, $skipped.Count)
}
