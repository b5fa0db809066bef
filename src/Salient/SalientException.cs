namespace Salient;

/// <summary>
/// An error a user can act on (bad file, unknown layer, unsupported op, ...). The message is one
/// line, says what went wrong and, where possible, what to do; the CLI prints it without a stack trace.
/// </summary>
public class SalientException : Exception
{
    public SalientException(string message) : base(message) { }
    public SalientException(string message, Exception inner) : base(message, inner) { }
}
