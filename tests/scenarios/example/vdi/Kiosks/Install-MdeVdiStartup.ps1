#Requires -Version 5.1
#Requires -PSEdition Desktop
#Requires -RunAsAdministrator
<#
.SYNOPSIS
    Adds the Microsoft Defender for Endpoint VDI startup script of one pool to this golden image.

.DESCRIPTION
    Run this script elevated, in the 64-bit Windows PowerShell 5.1 (powershell.exe), on the pool's
    golden image, from the pool's kit folder vdi\<pool>\ (the folder that holds Startup\ beside
    this script). It:

      0. refuses to run in a 32-bit PowerShell on 64-bit Windows (its System32\GroupPolicy is
         SysWOW64\GroupPolicy, which Windows never reads);
      1. refuses an image that is already onboarded (the onboarding state, a sensor identity, or
         the sensor service running), or that onboards at its next start (the onboarding
         package's value is set): an onboarded image gives every clone the same device;
      2. single entry only: refuses while a rename of the computer is pending, and reminds you
         that each clone needs its final name before the startup script runs;
      3. refuses when the other scripts INI (scripts.ini for single entry, psscripts.ini for
         multiple entries) already registers a VDI file: Microsoft says not to register both;
      4. checks every file in Startup\ against the SHA-256 mdegen recorded (a changed byte breaks
         Microsoft's signature);
      5. copies the files to %SystemRoot%\System32\GroupPolicy\Machine\Scripts\Startup and
         unblocks the copies (removes their Mark of the Web);
      6. registers the startup entry in the local Group Policy object: psscripts.ini (single
         entry, PowerShell Scripts tab) or scripts.ini (multiple entries, Scripts tab), keeping
         every other entry;
      7. registers the Scripts extension in the local gpt.ini and raises its machine version, so
         Windows runs the startup script at the next start-up.

    Every change goes through -WhatIf/-Confirm. A second run changes nothing and says so. The
    script stops at the first error and says which step failed and what to do.

    Do not restart this image before you seal it: the startup script onboards the computer it
    starts on, the golden image included. If that happened, re-seal the image with the kit's
    vdi\reseal\Reset-MdeVdiImage.ps1 (run as SYSTEM) before you capture it.

    If the kit was copied from another computer, unblock its files first:
    Get-ChildItem -Recurse | Unblock-File

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File .\Install-MdeVdiStartup.ps1 -WhatIf

    Shows what the script would change, and changes nothing.

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File .\Install-MdeVdiStartup.ps1
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
param()

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

$Pool = [pscustomobject]@{
    Name           = 'Kiosks'
    Mode           = 'multiple'
    CheckFinalName = $false
    CmdLine        = 'WindowsDefenderATPOnboardingScript.cmd'
    Parameters     = ''
}

# The portal's files in the kit's startup folder, with the SHA-256 of each as mdegen packed it.
$StartupFiles = @(
    [pscustomobject]@{ Name = 'WindowsDefenderATPOnboardingScript.cmd'; Sha256 = '92177C9C747F5FE1D38CE04B7C427DD44FB62E1F189F553D285DE4AB578AA717' }
)

# The local Group Policy object: folders below %SystemRoot%, INI files, sections and keys, and the
# Scripts extension (client-side extension and machine tool) that gpt.ini must list.
$LocalGpo = [pscustomobject]@{
    Folder          = 'System32\GroupPolicy'
    KitStartup      = 'Startup'
    ScriptsFolder   = 'Machine\Scripts'
    StartupFolder   = 'Startup'
    ScriptsIni      = 'scripts.ini'
    ScriptsTab      = 'Scripts'
    OtherIni        = 'psscripts.ini'
    OtherTab        = 'PowerShell Scripts'
    VdiFiles        = @(
        'Onboard-NonPersistentMachine.ps1'
        'WindowsDefenderATPOnboardingScript.cmd'
    )
    StartupSection  = 'Startup'
    ShutdownSection = 'Shutdown'
    ConfigSection   = 'ScriptsConfig'
    GptIni          = 'gpt.ini'
    GptSection      = 'General'
    GptNamesKey     = 'gPCMachineExtensionNames'
    GptVersionKey   = 'Version'
    GptNew          = @(
        '[General]'
        'gPCFunctionalityVersion=2'
        'gPCMachineExtensionNames=[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]'
        'Version=1'
    )
    ScriptsCse      = '{42B5FAAE-6536-11D2-AE5A-0000F87571E3}'
    ScriptsTool     = '{40B6664F-4972-11D1-A7CA-0000F87571E3}'
    GptCodePage     = 1252
}

# Registry facts (below HKLM, read in the 64-bit view) and names the messages use.
$Facts = [pscustomobject]@{
    SenseKey              = 'SOFTWARE\Microsoft\Windows Advanced Threat Protection'
    StatusKey             = 'SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'
    StateValue            = 'OnboardingState'
    IdentityValue         = 'senseGuid'
    SenseService          = 'Sense'
    AtpKey                = 'SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection'
    PendingValue          = 'OnboardingInfo'
    ComputerNameKey       = 'SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName'
    ActiveComputerNameKey = 'SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName'
    ComputerNameValue     = 'ComputerName'
    ResetScript           = 'vdi\reseal\Reset-MdeVdiImage.ps1'
    SystemCommand         = 'PsExec.exe -s -i powershell.exe -ExecutionPolicy Bypass -File'
    PowerShell64          = '%SystemRoot%\Sysnative\WindowsPowerShell\v1.0\powershell.exe'
    ZoneStream            = 'Zone.Identifier'
}

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
$Results = New-Object System.Collections.Generic.List[object]
# gpt.ini's ANSI, as the codec reads and writes it: Windows-1252 whatever the machine's code page
# (one character per byte, so a rewrite keeps every byte it does not change), and an error (not a
# '?') for a character it cannot carry.
$GptAnsi = [System.Text.Encoding]::GetEncoding($LocalGpo.GptCodePage, [System.Text.EncoderFallback]::ExceptionFallback, [System.Text.DecoderFallback]::ExceptionFallback)
# A scripts.ini / psscripts.ini without a byte-order mark, as Windows reads it: in the machine's
# ANSI code page (the one intended difference from the codec, which reads ANSI as Windows-1252).
$ScriptsAnsi = [System.Text.Encoding]::GetEncoding([System.Text.Encoding]::Default.CodePage, [System.Text.EncoderFallback]::ExceptionFallback, [System.Text.DecoderFallback]::ExceptionFallback)

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

function Stop-VdiSetup {
    param([string] $Step, [string] $Object, [string] $Reason, [string] $Fix)
    $message = 'Step "{0}" failed for {1}.{2}Reason: {3}{2}What to do: {4}' -f $Step, $Object, [Environment]::NewLine, $Reason, $Fix
    throw $message
}

function Get-HklmValue {
    # A value below HKLM in the 64-bit registry view, or $null when the key or the value is missing.
    param([string] $Key, [string] $Name)
    $hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    $sub = $hklm.OpenSubKey($Key)
    $value = $null
    if ($null -ne $sub) {
        $value = $sub.GetValue($Name)
        $sub.Close()
    }
    $hklm.Close()
    return $value
}

function Read-GpIniFile {
    # Mirrors generator/formats/gpscripts.py (_decode and _parse: the reader scripts.ini,
    # psscripts.ini and gpt.ini share). The bytes of $Path are UTF-16LE after the mark FF FE, UTF-8
    # after EF BB BF, otherwise ANSI in $Ansi ($GptAnsi, Windows-1252 as the codec, for gpt.ini;
    # $ScriptsAnsi, the machine's ANSI code page as Windows reads it, for a scripts INI: the one
    # intended difference); the UTF-16BE mark FE FF is refused. Lines end in CR LF or LF; blank
    # lines and ';' comment lines are skipped; spaces and tabs around section names, keys and values
    # are dropped; names compare ignoring case. Returns Sections (a list of Name, Keys; Keys a list
    # of Key, Value, Line in file order) and Problem: $null, or why the file cannot be read
    # ('line <n>: ...'): a key before any section, a line that is neither key=value nor [section], a
    # repeated section or key, a lone CR, a NUL, bytes the encoding cannot decode.
    param([string] $Path, [System.Text.Encoding] $Ansi)
    $bytes = [System.IO.File]::ReadAllBytes($Path)
    $isAnsi = $false
    try {
        if ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE) {
            $text = (New-Object System.Text.UnicodeEncoding($false, $false, $true)).GetString($bytes, 2, $bytes.Length - 2)
        }
        elseif ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFE -and $bytes[1] -eq 0xFF) {
            return [pscustomobject]@{ Sections = $null; Problem = 'line 1: the file starts with the UTF-16BE mark FE FF; Windows writes these files as UTF-16LE (FF FE) or ANSI' }
        }
        elseif ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF) {
            $text = (New-Object System.Text.UTF8Encoding($false, $true)).GetString($bytes, 3, $bytes.Length - 3)
        }
        else {
            $isAnsi = $true
            $text = $Ansi.GetString($bytes)
        }
    }
    catch {
        return [pscustomobject]@{ Sections = $null; Problem = ('the file cannot be decoded: ' + $_.Exception.Message) }
    }
    $blanks = [char[]] @(' ', "`t")
    $sections = New-Object System.Collections.Generic.List[object]
    $seenSections = New-Object 'System.Collections.Generic.HashSet[string]' ([StringComparer]::OrdinalIgnoreCase)
    $seenKeys = $null
    $current = $null
    $number = 0
    foreach ($raw in $text.Split([char] "`n")) {
        $number++
        $line = $raw
        if ($line.EndsWith("`r")) {
            $line = $line.Substring(0, $line.Length - 1)
        }
        $problem = $null
        if ($line.IndexOf([char] 0) -ge 0) {
            $problem = 'a NUL character'
            if ($isAnsi) {
                $problem += ' (a UTF-16 file without its FF FE mark?)'
            }
        }
        elseif ($line.IndexOf([char] "`r") -ge 0) {
            $problem = 'a carriage return without a line feed'
        }
        if ($null -ne $problem) {
            return [pscustomobject]@{ Sections = $null; Problem = ('line {0}: {1}' -f $number, $problem) }
        }
        $stripped = $line.Trim($blanks)
        if (-not $stripped -or $stripped.StartsWith(';')) {
            continue
        }
        if ($stripped.StartsWith('[')) {
            $name = ''
            if ($stripped.EndsWith(']')) {
                $name = $stripped.Substring(1, $stripped.Length - 2).Trim($blanks)
            }
            if (-not $name -or $name.Contains('[') -or $name.Contains(']')) {
                return [pscustomobject]@{ Sections = $null; Problem = ('line {0}: {1} is not a valid section header' -f $number, $stripped) }
            }
            if (-not $seenSections.Add($name)) {
                return [pscustomobject]@{ Sections = $null; Problem = ('line {0}: section [{1}] is there twice' -f $number, $name) }
            }
            $current = [pscustomobject]@{ Name = $name; Keys = (New-Object System.Collections.Generic.List[object]) }
            $sections.Add($current)
            $seenKeys = New-Object 'System.Collections.Generic.HashSet[string]' ([StringComparer]::OrdinalIgnoreCase)
            continue
        }
        $equals = $stripped.IndexOf('=')
        if ($equals -lt 0) {
            return [pscustomobject]@{ Sections = $null; Problem = ('line {0}: expected key=value or [section], got {1}' -f $number, $stripped) }
        }
        $key = $stripped.Substring(0, $equals).Trim($blanks)
        $value = $stripped.Substring($equals + 1).Trim($blanks)
        if (-not $key) {
            return [pscustomobject]@{ Sections = $null; Problem = ('line {0}: a key is missing before =: {1}' -f $number, $stripped) }
        }
        if ($null -eq $current) {
            return [pscustomobject]@{ Sections = $null; Problem = ('line {0}: key {1} comes before any [section]' -f $number, $key) }
        }
        if (-not $seenKeys.Add($key)) {
            return [pscustomobject]@{ Sections = $null; Problem = ('line {0}: key {1} is there twice in [{2}]' -f $number, $key, $current.Name) }
        }
        $current.Keys.Add([pscustomobject]@{ Key = $key; Value = $value; Line = $number })
    }
    return [pscustomobject]@{ Sections = $sections; Problem = $null }
}

function Get-ScriptEntries {
    # Mirrors generator/formats/gpscripts.py (_script_entries). The <n>CmdLine / <n>Parameters keys
    # of a [Startup] or [Shutdown] section as entries (CmdLine, Parameters) in numeric order, n a
    # decimal integer below 2**31; a CmdLine without Parameters has empty parameters. Problem: a
    # key that is no <n>CmdLine or <n>Parameters, n too large, a number used twice for the same
    # key, a Parameters key without its CmdLine.
    param($Section)
    $found = New-Object 'System.Collections.Generic.SortedDictionary[long,object]'
    foreach ($item in $Section.Keys) {
        $m = [regex]::Match($item.Key, '^([0-9]+)(CmdLine|Parameters)\z', [System.Text.RegularExpressions.RegexOptions]::IgnoreCase)
        if (-not $m.Success) {
            return [pscustomobject]@{ Entries = $null; Problem = ('line {0}: [{1}] key {2} is not <n>CmdLine or <n>Parameters' -f $item.Line, $Section.Name, $item.Key) }
        }
        $digits = $m.Groups[1].Value.TrimStart('0')
        if ($digits.Length -gt 10 -or ($digits.Length -gt 0 -and [long] $digits -gt 2147483647)) {
            return [pscustomobject]@{ Entries = $null; Problem = ('line {0}: [{1}] key {2}: the number is not below 2**31' -f $item.Line, $Section.Name, $item.Key) }
        }
        $index = [long] 0
        if ($digits.Length -gt 0) {
            $index = [long] $digits
        }
        if (-not $found.ContainsKey($index)) {
            $found[$index] = [pscustomobject]@{ CmdLine = $null; Parameters = $null }
        }
        $slot = $found[$index]
        if ([string]::Equals($m.Groups[2].Value, 'CmdLine', [StringComparison]::OrdinalIgnoreCase)) {
            if ($null -ne $slot.CmdLine) {
                return [pscustomobject]@{ Entries = $null; Problem = ('line {0}: [{1}] key {2} repeats the number of another CmdLine' -f $item.Line, $Section.Name, $item.Key) }
            }
            $slot.CmdLine = $item.Value
        }
        else {
            if ($null -ne $slot.Parameters) {
                return [pscustomobject]@{ Entries = $null; Problem = ('line {0}: [{1}] key {2} repeats the number of other Parameters' -f $item.Line, $Section.Name, $item.Key) }
            }
            $slot.Parameters = $item.Value
        }
    }
    $entries = New-Object System.Collections.Generic.List[object]
    foreach ($index in $found.Keys) {
        $slot = $found[$index]
        if ($null -eq $slot.CmdLine) {
            return [pscustomobject]@{ Entries = $null; Problem = ('[{0}] has {1}Parameters but no {1}CmdLine' -f $Section.Name, $index) }
        }
        $entries.Add([pscustomobject]@{ CmdLine = $slot.CmdLine; Parameters = [string] $slot.Parameters })
    }
    return [pscustomobject]@{ Entries = $entries; Problem = $null }
}

function Get-CommandFileName {
    # The file name a script entry's CmdLine runs: spaces and double quotes around it dropped,
    # then what follows the last \ or / (the whole text when it names no folder).
    param([string] $CmdLine)
    $path = $CmdLine.Trim().Trim([char] '"').Trim()
    $cut = $path.LastIndexOfAny([char[]] @('\', '/'))
    return $path.Substring($cut + 1)
}

function Merge-ScriptsIni {
    # Mirrors generator/formats/gpscripts.py (add_startup_script). $Sections: the file as
    # Read-GpIniFile read it, $null for a missing file (an empty document). When a [Startup] entry
    # has a CmdLine equal to $CmdLine (trailing white space removed, ordinal ignoring case) and
    # Parameters exactly $Parameters, nothing changes. Otherwise the entry is added after the last
    # one (highest index + 1, or 0), everything else kept, and the file is written in GPMC's form:
    # an empty first line, [ScriptsConfig] if it has keys, [Startup], [Shutdown] if it has
    # entries, the other sections in the order read; entries renumbered 0, 1, 2 ... in their
    # order, each <n>CmdLine= then <n>Parameters=; CR LF after every line. Returns Changed, Text,
    # Index (of our entry) and Problem.
    param($Sections, [string] $CmdLine, [string] $Parameters, [string] $StartupName, [string] $ShutdownName, [string] $ConfigName)
    $startup = New-Object System.Collections.Generic.List[object]
    $shutdown = New-Object System.Collections.Generic.List[object]
    $config = New-Object System.Collections.Generic.List[object]
    $others = New-Object System.Collections.Generic.List[object]
    foreach ($section in @($Sections)) {
        if ($null -eq $section) {
            continue
        }
        if ([string]::Equals($section.Name, $StartupName, [StringComparison]::OrdinalIgnoreCase) -or [string]::Equals($section.Name, $ShutdownName, [StringComparison]::OrdinalIgnoreCase)) {
            $read = Get-ScriptEntries -Section $section
            if ($null -ne $read.Problem) {
                return [pscustomobject]@{ Changed = $false; Text = $null; Index = -1; Problem = $read.Problem }
            }
            if ([string]::Equals($section.Name, $StartupName, [StringComparison]::OrdinalIgnoreCase)) {
                $startup = $read.Entries
            }
            else {
                $shutdown = $read.Entries
            }
        }
        elseif ([string]::Equals($section.Name, $ConfigName, [StringComparison]::OrdinalIgnoreCase)) {
            $config = $section.Keys
        }
        else {
            $others.Add($section)
        }
    }
    for ($i = 0; $i -lt $startup.Count; $i++) {
        if ([string]::Equals($startup[$i].CmdLine.TrimEnd(), $CmdLine.TrimEnd(), [StringComparison]::OrdinalIgnoreCase) -and [string]::Equals($startup[$i].Parameters, $Parameters, [StringComparison]::Ordinal)) {
            return [pscustomobject]@{ Changed = $false; Text = $null; Index = $i; Problem = $null }
        }
    }
    $startup.Add([pscustomobject]@{ CmdLine = $CmdLine; Parameters = $Parameters })
    $lines = New-Object System.Collections.Generic.List[string]
    $lines.Add('')
    if ($config.Count -gt 0) {
        $lines.Add('[' + $ConfigName + ']')
        foreach ($item in $config) {
            $lines.Add($item.Key + '=' + $item.Value)
        }
    }
    $lists = @(
        [pscustomobject]@{ Name = $StartupName; Entries = $startup },
        [pscustomobject]@{ Name = $ShutdownName; Entries = $shutdown }
    )
    foreach ($list in $lists) {
        if ($list.Entries.Count -gt 0) {
            $lines.Add('[' + $list.Name + ']')
            for ($i = 0; $i -lt $list.Entries.Count; $i++) {
                $lines.Add(('{0}CmdLine={1}' -f $i, $list.Entries[$i].CmdLine))
                $lines.Add(('{0}Parameters={1}' -f $i, $list.Entries[$i].Parameters))
            }
        }
    }
    foreach ($section in $others) {
        $lines.Add('[' + $section.Name + ']')
        foreach ($item in $section.Keys) {
            $lines.Add($item.Key + '=' + $item.Value)
        }
    }
    return [pscustomobject]@{ Changed = $true; Text = (($lines -join "`r`n") + "`r`n"); Index = ($startup.Count - 1); Problem = $null }
}

function ConvertFrom-ExtensionNames {
    # Mirrors generator/formats/gpscripts.py (parse_extension_names). '[{CSE}{TOOL}...][...]' as
    # (CSE, tool) pairs, GUIDs braced and upper-case; '' gives none. Problem: a group with a CSE
    # and no tool, text between groups, a malformed GUID.
    param([string] $Text)
    $guid = '\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}'
    $group = New-Object System.Text.RegularExpressions.Regex ('\G\[((?:' + $guid + ')+)\]')
    $pairs = New-Object System.Collections.Generic.List[object]
    $pos = 0
    while ($pos -lt $Text.Length) {
        $m = $group.Match($Text, $pos)
        if (-not $m.Success) {
            return [pscustomobject]@{ Pairs = $null; Problem = ('extension names {0}: expected [{1}CSE GUID{2}{1}tool GUID{2}...] at character {3}' -f $Text, '{', '}', ($pos + 1)) }
        }
        $guids = @([regex]::Matches($m.Groups[1].Value, $guid) | ForEach-Object { $_.Value.ToUpperInvariant() })
        if ($guids.Count -lt 2) {
            return [pscustomobject]@{ Pairs = $null; Problem = ('extension names {0}: group {1} names a CSE and no tool GUID' -f $Text, $m.Value) }
        }
        for ($i = 1; $i -lt $guids.Count; $i++) {
            $pairs.Add([pscustomobject]@{ Cse = $guids[0]; Tool = $guids[$i] })
        }
        $pos = $m.Index + $m.Length
    }
    return [pscustomobject]@{ Pairs = $pairs; Problem = $null }
}

function Merge-GptIni {
    # Mirrors generator/formats/gpscripts.py (add_machine_extension). $Sections: gpt.ini as
    # Read-GpIniFile read it, $null for a missing file, which becomes the lines of $NewFile (the
    # codec's merge into [General] gPCFunctionalityVersion=2). In [General], the names change when
    # the pair ($Cse, $Tool) is not among them (ignoring case). Names unchanged and not
    # $ScriptsChanged: nothing changes and the file is not written. Otherwise the names become
    # the old pairs plus ours, one group per CSE, groups by ascending upper-case CSE GUID, tools
    # ascending without repeats, every GUID upper-case; Version (absent: 0) keeps its high 16
    # bits (user) and its low 16 bits (machine) go up by one, 65535 wrapping to 1. Both values are
    # replaced where they stand (a missing [General] goes first; a missing names key, then a
    # missing Version, go at the end of [General]); every other section and key is kept in the
    # order read. Returns Changed, Text (CR LF after every line), Detail and Problem.
    param($Sections, [string[]] $NewFile, [string] $GeneralName, [string] $NamesKey, [string] $VersionKey, [string] $Cse, [string] $Tool, [bool] $ScriptsChanged)
    if ($null -eq $Sections) {
        return [pscustomobject]@{ Changed = $true; Text = (($NewFile -join "`r`n") + "`r`n"); Detail = 'new file'; Problem = $null }
    }
    $general = $null
    foreach ($section in $Sections) {
        if ($null -eq $general -and [string]::Equals($section.Name, $GeneralName, [StringComparison]::OrdinalIgnoreCase)) {
            $general = $section
        }
    }
    if ($null -eq $general) {
        $general = [pscustomobject]@{ Name = $GeneralName; Keys = (New-Object System.Collections.Generic.List[object]) }
        $Sections.Insert(0, $general)
    }
    $namesItem = $null
    $versionItem = $null
    foreach ($item in $general.Keys) {
        if ($null -eq $namesItem -and [string]::Equals($item.Key, $NamesKey, [StringComparison]::OrdinalIgnoreCase)) {
            $namesItem = $item
        }
        if ($null -eq $versionItem -and [string]::Equals($item.Key, $VersionKey, [StringComparison]::OrdinalIgnoreCase)) {
            $versionItem = $item
        }
    }
    $pairs = New-Object System.Collections.Generic.List[object]
    if ($null -ne $namesItem) {
        $read = ConvertFrom-ExtensionNames -Text $namesItem.Value
        if ($null -ne $read.Problem) {
            return [pscustomobject]@{ Changed = $false; Text = $null; Detail = ''; Problem = ('line {0}: {1}' -f $namesItem.Line, $read.Problem) }
        }
        $pairs = $read.Pairs
    }
    $version = [long] 0
    if ($null -ne $versionItem) {
        $digits = $versionItem.Value.TrimStart('0')
        if (-not [regex]::IsMatch($versionItem.Value, '^[0-9]+\z') -or $digits.Length -gt 10 -or ($digits.Length -gt 0 -and [long] $digits -gt 4294967295)) {
            return [pscustomobject]@{ Changed = $false; Text = $null; Detail = ''; Problem = ('line {0}: {1} {2} is not a decimal integer in 0..4294967295' -f $versionItem.Line, $VersionKey, $versionItem.Value) }
        }
        if ($digits.Length -gt 0) {
            $version = [long] $digits
        }
    }
    $ourCse = $Cse.ToUpperInvariant()
    $ourTool = $Tool.ToUpperInvariant()
    $listed = $false
    foreach ($pair in $pairs) {
        if ($pair.Cse -ceq $ourCse -and $pair.Tool -ceq $ourTool) {
            $listed = $true
        }
    }
    if ($listed -and -not $ScriptsChanged) {
        return [pscustomobject]@{ Changed = $false; Text = $null; Detail = 'Scripts extension listed'; Problem = $null }
    }

    $groups = New-Object 'System.Collections.Generic.SortedDictionary[string,object]' ([StringComparer]::Ordinal)
    $pairs.Add([pscustomobject]@{ Cse = $ourCse; Tool = $ourTool })
    foreach ($pair in $pairs) {
        if (-not $groups.ContainsKey($pair.Cse)) {
            $groups[$pair.Cse] = New-Object 'System.Collections.Generic.SortedSet[string]' ([StringComparer]::Ordinal)
        }
        $null = $groups[$pair.Cse].Add($pair.Tool)
    }
    $names = ''
    foreach ($cseGuid in $groups.Keys) {
        $names += '[' + $cseGuid + (@($groups[$cseGuid]) -join '') + ']'
    }

    $machine = $version % 65536
    $user = $version - $machine
    if ($machine -eq 65535) {
        $machine = 1
    }
    else {
        $machine = $machine + 1
    }
    $newVersion = ($user + $machine).ToString([Globalization.CultureInfo]::InvariantCulture)

    if ($null -eq $namesItem) {
        $namesItem = [pscustomobject]@{ Key = $NamesKey; Value = ''; Line = 0 }
        $general.Keys.Add($namesItem)
    }
    if ($null -eq $versionItem) {
        $versionItem = [pscustomobject]@{ Key = $VersionKey; Value = '0'; Line = 0 }
        $general.Keys.Add($versionItem)
    }
    $detail = '{0} {1} -> {2}' -f $VersionKey, $versionItem.Value, $newVersion
    if (-not $listed) {
        $detail += '; Scripts extension added'
    }
    $namesItem.Value = $names
    $versionItem.Value = $newVersion
    $lines = New-Object System.Collections.Generic.List[string]
    foreach ($section in $Sections) {
        $lines.Add('[' + $section.Name + ']')
        foreach ($item in $section.Keys) {
            $lines.Add($item.Key + '=' + $item.Value)
        }
    }
    return [pscustomobject]@{ Changed = $true; Text = (($lines -join "`r`n") + "`r`n"); Detail = $detail; Problem = $null }
}

function Write-IniFile {
    # Writes $Text to $Path in $Encoding. File.WriteAllText refuses a hidden or system file, so an
    # existing file loses those attributes while it is written and gets them back after; -Hidden
    # sets Hidden (as GPMC does for scripts.ini and psscripts.ini).
    param([string] $Path, [string] $Text, [System.Text.Encoding] $Encoding, [switch] $Hidden)
    $attributes = [int] [System.IO.FileAttributes]::Archive
    if (Test-Path -LiteralPath $Path -PathType Leaf) {
        $attributes = [int] [System.IO.File]::GetAttributes($Path)
        [System.IO.File]::SetAttributes($Path, [System.IO.FileAttributes]::Normal)
    }
    [System.IO.File]::WriteAllText($Path, $Text, $Encoding)
    if ($Hidden) {
        $attributes = $attributes -bor [int] [System.IO.FileAttributes]::Hidden
    }
    if ($attributes -ne [int] [System.IO.FileAttributes]::Normal) {
        $attributes = $attributes -band (-bnot [int] [System.IO.FileAttributes]::Normal)
    }
    [System.IO.File]::SetAttributes($Path, [System.IO.FileAttributes] $attributes)
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
$step = 'Check the kit'
$object = 'the kit folder'
try {
    Write-Host ('mdegen VDI kit: {0}, release {1}, pool {2} ({3} entry)' -f $Kit.Organization, $Kit.Release, $Pool.Name, $Pool.Mode)

    # 0. A 32-bit PowerShell on 64-bit Windows sees SysWOW64 as System32: the local Group Policy
    #    object it would change is not the one Windows reads.
    $step = 'Check the PowerShell host'
    $object = 'this PowerShell session'
    if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) {
        Stop-VdiSetup -Step $step -Object $object -Reason 'This is the 32-bit PowerShell on 64-bit Windows (as an MDT or Configuration Manager "Run Command Line" step starts it): Windows redirects its %SystemRoot%\System32\GroupPolicy to SysWOW64, which the policy engine never reads.' -Fix ('Run the script in the 64-bit Windows PowerShell; from a 32-bit process that is {0} -ExecutionPolicy Bypass -File .\Install-MdeVdiStartup.ps1 (Sysnative reaches the 64-bit System32).' -f $Facts.PowerShell64)
    }
    Add-Result -Kind 'Check' -Name '64-bit PowerShell' -Outcome 'checked'

    $step = 'Check the kit'
    $object = 'the kit folder'
    if ($WhatIfPreference) {
        Write-Host 'WhatIf: nothing will be changed; the lines below say what would be.'
    }
    $kitRoot = $PSScriptRoot
    if (-not $kitRoot) {
        Stop-VdiSetup -Step $step -Object $object -Reason 'The script was not started from a file, so it cannot find the kit.' -Fix 'Run it as a file from the kit folder: powershell.exe -ExecutionPolicy Bypass -File .\Install-MdeVdiStartup.ps1'
    }
    $kitStartup = Join-Path $kitRoot $LocalGpo.KitStartup
    $gpoRoot = Join-Path $env:SystemRoot $LocalGpo.Folder
    $scriptsDir = Join-Path $gpoRoot $LocalGpo.ScriptsFolder
    $startupDir = Join-Path $scriptsDir $LocalGpo.StartupFolder
    $iniPath = Join-Path $scriptsDir $LocalGpo.ScriptsIni
    $otherPath = Join-Path $scriptsDir $LocalGpo.OtherIni
    $gptPath = Join-Path $gpoRoot $LocalGpo.GptIni

    # 1. The image must not be onboarded: every clone would be the same device.
    $step = 'Check that the image is not onboarded'
    $object = 'this computer'
    $found = @()
    $state = Get-HklmValue -Key $Facts.StatusKey -Name $Facts.StateValue
    if ($null -ne $state -and [string] $state -eq '1') {
        $found += ('{0} = 1 under HKLM\{1}' -f $Facts.StateValue, $Facts.StatusKey)
    }
    $identity = Get-HklmValue -Key $Facts.SenseKey -Name $Facts.IdentityValue
    if ($null -ne $identity) {
        $found += ('{0} is set under HKLM\{1}' -f $Facts.IdentityValue, $Facts.SenseKey)
    }
    $service = Get-Service -Name $Facts.SenseService -ErrorAction SilentlyContinue
    if ($null -ne $service -and $service.Status -eq 'Running') {
        $found += ('the {0} service is running' -f $Facts.SenseService)
    }
    if ($found.Count -gt 0) {
        Stop-VdiSetup -Step $step -Object $object -Reason ('The image is already onboarded ({0}): every clone of it would share one device identity.' -f ($found -join '; ')) -Fix ('Never boot this image onto the network while it is onboarded. Re-seal it first: run the kit''s {0} as SYSTEM ({1} <kit>\{0}; the pool folders are vdi\<pool>\), then run this script again.' -f $Facts.ResetScript, $Facts.SystemCommand)
    }
    # The onboarding package's value under the policy key: the sensor onboards at its next start.
    $pending = Get-HklmValue -Key $Facts.AtpKey -Name $Facts.PendingValue
    if ($null -ne $pending) {
        Stop-VdiSetup -Step $step -Object $object -Reason ('{0} is set under HKLM\{1}: the sensor onboards this image at its next start (typically an onboarding GPO of the domain reached it), and every clone would share its identity.' -f $Facts.PendingValue, $Facts.AtpKey) -Fix ('Keep the image out of OUs that have an onboarding GPO linked (move it, or block inheritance), then re-seal it before it starts again: run the kit''s {0} as SYSTEM ({1} <kit>\{0}; the pool folders are vdi\<pool>\), then run this script again.' -f $Facts.ResetScript, $Facts.SystemCommand)
    }
    Add-Result -Kind 'Check' -Name 'image not onboarded' -Outcome 'checked'

    # 2. Single entry: the device identity comes from the machine name when the startup script runs.
    if ($Pool.CheckFinalName) {
        $step = 'Check the machine name'
        $configured = Get-HklmValue -Key $Facts.ComputerNameKey -Name $Facts.ComputerNameValue
        $active = Get-HklmValue -Key $Facts.ActiveComputerNameKey -Name $Facts.ComputerNameValue
        $object = 'computer ' + [string] $active
        if ($null -ne $configured -and $null -ne $active -and -not [string]::Equals([string] $configured, [string] $active, [StringComparison]::OrdinalIgnoreCase)) {
            Stop-VdiSetup -Step $step -Object $object -Reason ('A rename is pending: the computer is {0} now and becomes {1} at the next restart.' -f $active, $configured) -Fix 'Restart the image to finish the rename (this script has registered nothing yet), then run it again.'
        }
        Add-Result -Kind 'Check' -Name 'no pending rename' -Outcome 'checked' -Detail ('computer name: {0}' -f $active)
        Write-Host ''
        Write-Host 'Reminder (single entry): the startup script derives the device identity from the machine name. Each clone must have its final name, after its last provisioning restart, before the startup script runs; a clone renamed later shows up as another device.'
        Write-Host ''
    }

    # 3. The other scripts INI must not run a VDI file too (Microsoft: one of the two entries, never both).
    $step = 'Check the other scripts INI'
    $object = $otherPath
    if (Test-Path -LiteralPath $otherPath -PathType Leaf) {
        $read = Read-GpIniFile -Path $otherPath -Ansi $ScriptsAnsi
        if ($null -ne $read.Problem) {
            Stop-VdiSetup -Step $step -Object $otherPath -Reason ('The file cannot be read: {0}, so this script cannot check that it registers no VDI file.' -f $read.Problem) -Fix ('Repair {0} (gpedit.msc > Computer Configuration > Windows Settings > Scripts (Startup/Shutdown), the {1} tab shows it), or delete it if it holds nothing you need, then run again.' -f $otherPath, $LocalGpo.OtherTab)
        }
        foreach ($section in $read.Sections) {
            if (-not ([string]::Equals($section.Name, $LocalGpo.StartupSection, [StringComparison]::OrdinalIgnoreCase) -or [string]::Equals($section.Name, $LocalGpo.ShutdownSection, [StringComparison]::OrdinalIgnoreCase))) {
                continue
            }
            $entries = Get-ScriptEntries -Section $section
            if ($null -ne $entries.Problem) {
                Stop-VdiSetup -Step $step -Object $otherPath -Reason ('The file cannot be read: {0}, so this script cannot check that it registers no VDI file.' -f $entries.Problem) -Fix ('Repair {0}, or delete it if it holds nothing you need, then run again.' -f $otherPath)
            }
            for ($i = 0; $i -lt $entries.Entries.Count; $i++) {
                $other = $entries.Entries[$i]
                $label = ('[{0}] entry {1}: {2} {3}' -f $section.Name, $i, $other.CmdLine, $other.Parameters).TrimEnd()
                foreach ($vdiFile in $LocalGpo.VdiFiles) {
                    if ([string]::Equals((Get-CommandFileName -CmdLine $other.CmdLine), $vdiFile, [StringComparison]::OrdinalIgnoreCase)) {
                        Stop-VdiSetup -Step $step -Object $otherPath -Reason ('{0} registers {1} ({2}), and this script registers {3} in {4}: Microsoft says not to register both, because the onboarding .cmd would onboard the clone with a random identity before the per-name one.' -f $LocalGpo.OtherIni, $vdiFile, $label, $Pool.CmdLine, $LocalGpo.ScriptsIni) -Fix ('If the pool is to use this kit, remove {0} from {1}: gpedit.msc > Computer Configuration > Windows Settings > Scripts (Startup/Shutdown) > {2}, the {3} tab (this script fills the {4} tab); then run this script again.' -f $other.CmdLine, $LocalGpo.OtherIni, $section.Name, $LocalGpo.OtherTab, $LocalGpo.ScriptsTab)
                    }
                }
            }
        }
        Add-Result -Kind 'Check' -Name ('no VDI file in ' + $LocalGpo.OtherIni) -Outcome 'checked'
    }
    else {
        Add-Result -Kind 'Check' -Name ('no VDI file in ' + $LocalGpo.OtherIni) -Outcome 'checked' -Detail 'no such file'
    }

    # 4. The portal's files, byte for byte.
    $step = 'Check the startup files of the kit'
    foreach ($file in $StartupFiles) {
        $object = $file.Name
        $source = Join-Path $kitStartup $file.Name
        if (-not (Test-Path -LiteralPath $source -PathType Leaf)) {
            Stop-VdiSetup -Step $step -Object $object -Reason ('{0} is missing.' -f $source) -Fix 'Run the script from the complete kit folder as mdegen wrote it (Startup\ must sit beside the script); copy the whole folder again if files are missing.'
        }
        $hash = (Get-FileHash -LiteralPath $source -Algorithm SHA256).Hash
        if ($hash -ne $file.Sha256) {
            Stop-VdiSetup -Step $step -Object $object -Reason ('{0} has SHA-256 {1}, not {2} as mdegen packed it: a changed byte breaks Microsoft''s signature.' -f $source, $hash, $file.Sha256) -Fix 'Copy the kit again as mdegen wrote it (byte for byte: no editor, no line-end conversion), or regenerate it from the portal package, then run again.'
        }
        Add-Result -Kind 'Kit file' -Name $file.Name -Outcome 'checked' -Detail 'SHA-256 as packed'
    }

    # 5. Copy the files to the local Group Policy object's startup folder and unblock the copies
    #    (a kit downloaded or copied from a share carries the Mark of the Web).
    $step = 'Copy the startup files'
    $object = $startupDir
    $folderReady = Test-Path -LiteralPath $startupDir -PathType Container
    if ($folderReady) {
        Add-Result -Kind 'Folder' -Name $startupDir -Outcome 'unchanged'
    }
    elseif ($PSCmdlet.ShouldProcess($startupDir, 'Create folder')) {
        $null = New-Item -ItemType Directory -Path $startupDir -Force -Confirm:$false
        $folderReady = $true
        Add-Result -Kind 'Folder' -Name $startupDir -Outcome 'created'
    }
    else {
        Add-Result -Kind 'Folder' -Name $startupDir -Outcome (Get-SkippedOutcome -Planned 'created')
    }
    foreach ($file in $StartupFiles) {
        $object = $file.Name
        $source = Join-Path $kitStartup $file.Name
        $target = Join-Path $startupDir $file.Name
        $exists = Test-Path -LiteralPath $target -PathType Leaf
        if ($exists -and (Get-FileHash -LiteralPath $target -Algorithm SHA256).Hash -eq $file.Sha256) {
            $zone = Get-Item -LiteralPath $target -Stream $Facts.ZoneStream -ErrorAction SilentlyContinue
            if ($null -eq $zone) {
                Add-Result -Kind 'Startup file' -Name $file.Name -Outcome 'unchanged'
            }
            elseif ($PSCmdlet.ShouldProcess($target, 'Unblock ' + $file.Name)) {
                Unblock-File -LiteralPath $target -Confirm:$false
                Add-Result -Kind 'Startup file' -Name $file.Name -Outcome 'updated' -Detail 'unblocked (Mark of the Web removed)'
            }
            else {
                Add-Result -Kind 'Startup file' -Name $file.Name -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'unblock'
            }
            continue
        }
        $outcome = 'created'
        if ($exists) {
            $outcome = 'updated'
        }
        if (-not $folderReady) {
            Add-Result -Kind 'Startup file' -Name $file.Name -Outcome (Get-SkippedOutcome -Planned $outcome)
        }
        elseif ($PSCmdlet.ShouldProcess($target, 'Copy ' + $file.Name)) {
            Copy-Item -LiteralPath $source -Destination $target -Force -Confirm:$false
            Unblock-File -LiteralPath $target -Confirm:$false
            $copied = (Get-FileHash -LiteralPath $target -Algorithm SHA256).Hash
            if ($copied -ne $file.Sha256) {
                Stop-VdiSetup -Step $step -Object $object -Reason ('The copy {0} has SHA-256 {1}, not {2}.' -f $target, $copied, $file.Sha256) -Fix 'Check that nothing (an antivirus, a file filter) changes files in that folder, then run again.'
            }
            Add-Result -Kind 'Startup file' -Name $file.Name -Outcome $outcome
        }
        else {
            Add-Result -Kind 'Startup file' -Name $file.Name -Outcome (Get-SkippedOutcome -Planned $outcome)
        }
    }

    # 6. The startup entry in scripts.ini / psscripts.ini, merged here and written in step 8 (UTF-16LE
    # with BOM, hidden, as GPMC writes it).
    $step = 'Register the startup script'
    $object = $iniPath
    $iniExists = Test-Path -LiteralPath $iniPath -PathType Leaf
    $sections = $null
    if ($iniExists) {
        $read = Read-GpIniFile -Path $iniPath -Ansi $ScriptsAnsi
        if ($null -ne $read.Problem) {
            Stop-VdiSetup -Step $step -Object $object -Reason ('The file cannot be read: {0}.' -f $read.Problem) -Fix ('Repair {0} (the image''s list of startup scripts; gpedit.msc > Computer Configuration > Windows Settings > Scripts shows it), or delete it if it holds nothing you need, then run again.' -f $iniPath)
        }
        $sections = $read.Sections
    }
    $merged = Merge-ScriptsIni -Sections $sections -CmdLine $Pool.CmdLine -Parameters $Pool.Parameters -StartupName $LocalGpo.StartupSection -ShutdownName $LocalGpo.ShutdownSection -ConfigName $LocalGpo.ConfigSection
    if ($null -ne $merged.Problem) {
        Stop-VdiSetup -Step $step -Object $object -Reason ('The file cannot be read: {0}.' -f $merged.Problem) -Fix ('Repair {0} (the image''s list of startup scripts), or delete it if it holds nothing you need, then run again.' -f $iniPath)
    }
    $entry = ('[{0}] entry {1}: {2} {3}' -f $LocalGpo.StartupSection, $merged.Index, $Pool.CmdLine, $Pool.Parameters).TrimEnd()
    $iniMerged = $merged

    # 7. gpt.ini before the scripts INI: the machine version is raised first, so a run that stops
    # between the two writes leaves an entry still to add, and the next run raises the version again
    # (harmless) instead of leaving a new entry that Group Policy never picks up.
    $step = 'Update the local gpt.ini'
    $object = $gptPath
    $gptExists = Test-Path -LiteralPath $gptPath -PathType Leaf
    $sections = $null
    $outcome = 'created'
    if ($gptExists) {
        $read = Read-GpIniFile -Path $gptPath -Ansi $GptAnsi
        if ($null -ne $read.Problem) {
            Stop-VdiSetup -Step $step -Object $object -Reason ('The file cannot be read: {0}.' -f $read.Problem) -Fix ('Repair {0}, or delete it to have it written anew, then run again.' -f $gptPath)
        }
        $sections = $read.Sections
        $outcome = 'updated'
    }
    $merged = Merge-GptIni -Sections $sections -NewFile $LocalGpo.GptNew -GeneralName $LocalGpo.GptSection -NamesKey $LocalGpo.GptNamesKey -VersionKey $LocalGpo.GptVersionKey -Cse $LocalGpo.ScriptsCse -Tool $LocalGpo.ScriptsTool -ScriptsChanged $iniMerged.Changed
    if ($null -ne $merged.Problem) {
        Stop-VdiSetup -Step $step -Object $object -Reason ('The file cannot be merged: {0}.' -f $merged.Problem) -Fix ('Repair {0}, or delete it to have it written anew, then run again.' -f $gptPath)
    }
    if (-not $merged.Changed) {
        Add-Result -Kind 'gpt.ini' -Name $gptPath -Outcome 'unchanged' -Detail $merged.Detail
    }
    elseif ($PSCmdlet.ShouldProcess($gptPath, 'Register the Scripts extension and raise the machine version')) {
        Write-IniFile -Path $gptPath -Text $merged.Text -Encoding $GptAnsi
        Add-Result -Kind 'gpt.ini' -Name $gptPath -Outcome $outcome -Detail $merged.Detail
    }
    else {
        Add-Result -Kind 'gpt.ini' -Name $gptPath -Outcome (Get-SkippedOutcome -Planned $outcome) -Detail $merged.Detail
    }

    # 8. The startup entry itself.
    $step = 'Register the startup script'
    $object = $iniPath
    $outcome = 'created'
    if ($iniExists) {
        $outcome = 'updated'
    }
    if (-not $iniMerged.Changed) {
        Add-Result -Kind 'Scripts INI' -Name $LocalGpo.ScriptsIni -Outcome 'unchanged' -Detail $entry
    }
    elseif ($PSCmdlet.ShouldProcess($iniPath, ('Add startup entry {0}: {1}' -f $iniMerged.Index, $Pool.CmdLine))) {
        if (-not (Test-Path -LiteralPath $scriptsDir -PathType Container)) {
            $null = New-Item -ItemType Directory -Path $scriptsDir -Force -Confirm:$false
        }
        Write-IniFile -Path $iniPath -Text $iniMerged.Text -Encoding (New-Object System.Text.UnicodeEncoding($false, $true)) -Hidden
        Add-Result -Kind 'Scripts INI' -Name $LocalGpo.ScriptsIni -Outcome $outcome -Detail $entry
    }
    else {
        Add-Result -Kind 'Scripts INI' -Name $LocalGpo.ScriptsIni -Outcome (Get-SkippedOutcome -Planned $outcome) -Detail $entry
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
    Stop-VdiSetup -Step $step -Object $object -Reason $failure.Exception.Message -Fix 'Fix the cause named above and run the script again; finished steps are skipped.'
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
Write-Host 'Do not restart this image before you seal it: the startup script onboards the computer it starts on. Shut it down and capture it; each clone onboards at its first start-up.'
exit 0
