namespace Salient;

/// <summary>
/// An error a user can act on (bad file, unknown layer, unsupported op, ...). The message is one
/// line, says what went wrong and, where possible, what to do; the CLI prints it without a stack trace.
/// </summary>
public class SalientException : Exception
{
    public SalientException(string message) : base(OneLine(message)) { }
    public SalientException(string message, Exception inner) : base(OneLine(message), inner) { }

    /// <summary>
    /// Line breaks become spaces: a message quotes names from input files (tensor, node, path) that may
    /// hold any character, and the one-line promise must hold whatever they contain.
    /// </summary>
    private static string OneLine(string message) =>
        message is null ? "" : message.Contains('\n') || message.Contains('\r') ? message.ReplaceLineEndings(" ") : message;
}
