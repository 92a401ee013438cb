// Homework through forms, as a teacher and a student would: the teacher (the
// group's owner) sets it with `/homework` and the form, a student hands in
// through the card's form, the teacher grades through the grading form, and
// the student gets the feedback by direct message.
import { test, expect, shot } from "./fixtures";

test("a teacher sets homework, a student hands it in, the teacher grades it", async ({ browser, signIn }) => {
  const teacherContext = await browser.newContext();
  const studentContext = await browser.newContext();
  const teacher = await teacherContext.newPage();
  const student = await studentContext.newPage();
  try {
    await signIn(teacher, "owner");
    await teacher.getByRole("link", { name: "demo" }).click();
    await expect(teacher.getByTestId("live")).toHaveText("Live");

    // `/homework` alone opens the homework form.
    const box = teacher.getByRole("combobox", { name: "Message" });
    await box.fill("/homework");
    await box.press("Escape");
    await box.press("Enter");
    const setForm = teacher.getByRole("dialog");
    await expect(setForm).toBeVisible();
    await setForm.getByLabel("Title").fill("Essay: my summer");
    const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    await setForm.getByLabel("Due").fill(`${day}T18:00`);
    await setForm.getByLabel("Instructions").fill("Three paragraphs, please.");
    await shot(teacher, "homework-set");
    await setForm.getByRole("button", { name: "Set homework" }).click();
    await expect(setForm).toBeHidden();
    const teacherCard = teacher
      .getByTestId("message")
      .filter({ hasText: "Essay: my summer" })
      .filter({ has: teacher.getByRole("button", { name: "Hand in" }) });
    await expect(teacherCard).toHaveCount(1);

    // The student hands in through the card's form.
    await signIn(student, "alice");
    await student.getByRole("link", { name: "demo" }).click();
    const studentCard = student
      .getByTestId("message")
      .filter({ hasText: "Essay: my summer" })
      .filter({ has: student.getByRole("button", { name: "Hand in" }) });
    await studentCard.getByRole("button", { name: "Hand in" }).click();
    const handIn = student.getByRole("dialog");
    await expect(handIn).toBeVisible();
    await expect(handIn).toContainText("Three paragraphs, please.");
    await handIn.getByLabel("Your answer").fill("I went to the sea. It was blue. I came back.");
    await shot(student, "homework-hand-in");
    await handIn.getByRole("button", { name: "Hand in" }).click();
    await expect(handIn).toBeHidden();
    // Her status, privately.
    await studentCard.getByRole("button", { name: "My status" }).click();
    await expect(student.getByText("handed in, not graded yet").first()).toBeVisible();

    // The teacher grades her through the grading form.
    await teacherCard.getByRole("button", { name: "Grade" }).click();
    const grade = teacher.getByRole("dialog");
    await expect(grade).toBeVisible();
    await grade.getByLabel("Student").selectOption({ label: "alice" });
    await grade.getByLabel("Score (0-100)").fill("90");
    await grade.getByLabel("Comment").fill("Lovely sea.");
    await grade.getByRole("button", { name: "Grade" }).click();
    await expect(grade).toBeHidden();

    // The student reads the feedback in her direct messages.
    await student.getByRole("link", { name: "Messages" }).click();
    await expect(student.getByText("Lovely sea.").first()).toBeVisible();
    await shot(student, "homework-feedback");
  } finally {
    await teacherContext.close();
    await studentContext.close();
  }
});
