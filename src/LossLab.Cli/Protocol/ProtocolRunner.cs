using System.Text.Json;
using LossLab.Losses.Core;

namespace LossLab.Cli.Protocol;

/// <summary>
/// Runs protocol requests: one request (<c>losslab loss NAME --json</c>) or a JSON-lines batch
/// (<c>losslab loss --batch</c>), turning every failure into an error line rather than an exception.
/// </summary>
internal sealed class ProtocolRunner(LossRegistry registry)
{
    /// <summary>Answers one request text; returns the JSON line and whether it succeeded.</summary>
    public (string Line, bool Ok) RunOne(string json, string? lossName)
    {
        string? id = null;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json, LossRequest.DocumentOptions);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("id", out JsonElement idElement))
            {
                id = idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : idElement.GetRawText();
            }
            LossRequest request = LossRequest.Parse(doc.RootElement, lossName);
            LossResult result = request.Evaluate(registry);
            return (LossRequest.FormatResult(request.Id, result), true);
        }
        catch (JsonException e)
        {
            return (LossRequest.FormatError(id, "invalid_json", "the request is not valid JSON: " + e.Message), false);
        }
        catch (LossArgumentException e)
        {
            return (LossRequest.FormatError(id, e.CodeName, e.Message), false);
        }
        catch (OutOfMemoryException)
        {
            long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            return (LossRequest.FormatError(id, "invalid_value",
                $"the request needs more memory than this process may use ({limit / (double)(1 << 30):F1} GiB): a smaller input or option (bins, classes, sizes)"), false);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or OverflowException or IndexOutOfRangeException)
        {
            return (LossRequest.FormatError(id, "invalid_value", e.Message), false);
        }
        catch (Exception e)
        {
            // A bug, not bad input: answered like any failure, so that a batch goes on with its other lines, and
            // counted so that the command still exits with the internal-error code.
            InternalErrors++;
            return (LossRequest.FormatError(id, "internal_error", $"{e.GetType().Name}: {e.Message} (a LossLab bug; please report the request)"), false);
        }
    }

    /// <summary>Requests that failed on an unexpected exception (a bug) rather than on bad input.</summary>
    public int InternalErrors { get; private set; }

    /// <summary>Answers every non-blank line of a JSON-lines stream in order; returns the number of failed cases.</summary>
    public int RunBatch(TextReader input, TextWriter output)
    {
        int failed = 0, lineNumber = 0;
        string? line;
        while ((line = input.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var (answer, ok) = RunOne(line, null);
            if (!ok)
            {
                failed++;
                answer = AddLineNumber(answer, lineNumber);
            }
            output.WriteLine(answer);
        }
        return failed;
    }

    /// <summary>Errors in a batch also say which line failed (useful when the line had no id).</summary>
    private static string AddLineNumber(string errorJson, int lineNumber)
    {
        using JsonDocument doc = JsonDocument.Parse(errorJson);
        JsonElement err = doc.RootElement.GetProperty("error");
        string? id = doc.RootElement.TryGetProperty("id", out JsonElement i) ? i.GetString() : null;
        return LossRequest.FormatError(id, err.GetProperty("code").GetString()!, $"line {lineNumber}: {err.GetProperty("message").GetString()}");
    }
}
