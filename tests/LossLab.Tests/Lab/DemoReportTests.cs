using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using LossLab.Cli;
using LossLab.Cli.Lab;

namespace LossLab.Tests.Lab;

/// <summary>Runs the default demo once (all thirteen experiments) and shares its report folder with the tests below.</summary>
public sealed class DemoFixture
{
    public DemoFixture()
    {
        Folder = Path.Combine(Directory.CreateTempSubdirectory("losslab-demo").FullName, "report");
        var output = new StringWriter();
        var error = new StringWriter();
        var clock = Stopwatch.StartNew();
        ExitCode = Program.Run(["demo", "--out", Folder], new CliConsole(new StringReader(""), output, error, false));
        Seconds = clock.Elapsed.TotalSeconds;
        Output = output.ToString();
        Error = error.ToString();
    }

    public string Folder { get; }

    public int ExitCode { get; }

    public double Seconds { get; }

    public string Output { get; }

    public string Error { get; }
}

public sealed class DemoReportTests(DemoFixture demo) : IClassFixture<DemoFixture>
{
    private static XDocument ParseHtml(string path)
    {
        // The report is written as well-formed XHTML-compatible HTML5: everything but the doctype parses as XML.
        string html = File.ReadAllText(path).Replace("<!DOCTYPE html>", "", StringComparison.Ordinal);
        return XDocument.Parse(html);
    }

    [Fact]
    public void The_demo_runs_all_thirteen_experiments_and_prints_progress_and_a_summary()
    {
        Assert.True(demo.ExitCode == 0, demo.Error);
        Assert.Equal(13, Regex.Matches(demo.Output, @"^\[\d+/13\] ", RegexOptions.Multiline).Count);
        Assert.Contains("report: ", demo.Output);
        Assert.Contains("verdict", demo.Output);
    }

    [Fact]
    public void The_report_parses_and_has_one_non_empty_chart_and_a_measured_verdict_per_experiment()
    {
        XDocument doc = ParseHtml(Path.Combine(demo.Folder, "index.html"));
        XNamespace svg = "http://www.w3.org/2000/svg";
        var sections = doc.Descendants("section").ToList();
        Assert.Equal(13, sections.Count);
        foreach (XElement section in sections)
        {
            var charts = section.Descendants(svg + "svg").ToList();
            Assert.Single(charts);
            // A chart with data draws paths or lines with coordinates, not just a frame.
            Assert.True(charts[0].Descendants().Count(e => e.Name.LocalName is "path" or "polyline" or "line" or "rect") > 10, $"{section.Attribute("id")}: empty chart");
            string verdict = section.Descendants("p").Single(p => (p.Attribute("class")?.Value ?? "").StartsWith("verdict", StringComparison.Ordinal)).Value;
            Assert.Matches(@"\d", verdict);
            Assert.Matches("supported|not supported|inconclusive", verdict);
        }
        foreach (string id in Experiments.All.Select(e => e.Id))
        {
            Assert.True(new FileInfo(Path.Combine(demo.Folder, "charts", id + ".png")).Length > 5000, id);
            Assert.True(File.Exists(Path.Combine(demo.Folder, "charts", id + ".svg")), id);
            Assert.True(File.Exists(Path.Combine(demo.Folder, id + ExperimentRecord.FileSuffix)), id);
        }
        Assert.DoesNotContain("http://", File.ReadAllText(Path.Combine(demo.Folder, "index.html")).Replace("http://www.w3.org", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Report_rebuilds_the_html_from_the_saved_records()
    {
        string other = Path.Combine(Directory.CreateTempSubdirectory("losslab-rebuilt").FullName, "out");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, Program.Run(["report", demo.Folder, "--out", other], new CliConsole(new StringReader(""), output, error, false)));
        XDocument rebuilt = ParseHtml(Path.Combine(other, "index.html"));
        Assert.Equal(13, rebuilt.Descendants("section").Count());
        var missing = new StringWriter();
        Assert.Equal(2, Program.Run(["report", "/no/such/folder"], new CliConsole(new StringReader(""), new StringWriter(), missing, false)));
        Assert.Contains("no such folder", missing.ToString());
        var badOnly = new StringWriter();
        Assert.Equal(2, Program.Run(["demo", "--only", "nope"], new CliConsole(new StringReader(""), new StringWriter(), badOnly, false)));
        Assert.Contains("ids: outliers", badOnly.ToString());
    }

    [Fact]
    public void Headless_chromium_loads_the_report_and_takes_a_screenshot_without_console_errors()
    {
        string? chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        if (chromium is null)
        {
            Assert.Fail("Chromium is not installed: .ci/run installs Debian's chromium package; locally run `apt-get install chromium`");
        }
        string shot = Path.Combine(demo.Folder, "screenshot.png");
        var start = new ProcessStartInfo(chromium,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={Directory.CreateTempSubdirectory("losslab-chromium").FullName}",
            "--enable-logging=stderr", "--v=0", "--window-size=1280,2400", $"--screenshot={shot}", "file://" + Path.Combine(demo.Folder, "index.html"),
        ])
        { RedirectStandardError = true, RedirectStandardOutput = true };
        using Process p = Process.Start(start)!;
        string log = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "chromium did not finish");
        Assert.True(new FileInfo(shot).Length > 20_000, "no screenshot: " + log[..Math.Min(log.Length, 500)]);
        var consoleErrors = log.Split('\n').Where(l => l.Contains("CONSOLE", StringComparison.Ordinal) && (l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("Uncaught", StringComparison.Ordinal))).ToList();
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
    }
}
