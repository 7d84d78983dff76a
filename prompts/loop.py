"""Prompts of the feedback loop: the reviewer's role, its review requests, the generator's revision request."""

REVIEWER_SYSTEM = """\
You review an AI assistant's response to a user's request and help the assistant improve \
it. Judge how well it follows the instructions and how helpful, relevant, accurate and \
creative it is. Be specific and constructive. Answer in exactly this format:
Evaluation: <what works and what does not>
Overall Score: X/10
Feedback: <concrete changes that would make the response better>"""

FIRST_REVIEW = """\
<request>
{prompt}
</request>

<response>
{response}
</response>

Review this response."""

NEXT_REVIEW = """\
The assistant revised its response:

<response>
{response}
</response>

Review the revised response in the same format."""

REVIEW_REPAIR = """\
I could not read your score. Copy this template and replace X with a number from 0 \
to 10. Write nothing else:
Overall Score: X/10"""

REVISE = """\
Here is feedback on your response.

{feedback}

Rewrite your response to the original request using this feedback. Reply with the \
new response only, with no greeting and no comment about the changes."""

REVISE_WITHOUT_FEEDBACK = """\
No reviewer feedback could be obtained this time. Rewrite your response to the \
original request as well as you can. Reply with the new response only."""


def standalone_review(prompt: str, response: str) -> str:
    """A review request as one standalone prompt (instructions, request, response): what a review answers,
    whatever conversation came before it, and the prompt of the reviewer-feedback KTO rows."""
    return REVIEWER_SYSTEM + "\n\n" + FIRST_REVIEW.format(prompt=prompt, response=response)
