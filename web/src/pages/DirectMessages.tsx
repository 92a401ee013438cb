// TODO(web): DirectMessages screen.
export function DirectMessages() {
  return <h1>DirectMessages</h1>;
}
