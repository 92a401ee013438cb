import { useEffect, useId, useRef, type ReactNode } from "react";

/**
 * A modal `<dialog>` opened with `showModal()`: focus moves inside, Esc
 * closes it (calling `onClose`), the page behind is inert.
 */
export function Modal({
  title,
  onClose,
  children,
  className,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  className?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    // A stale `close` (queued before a re-open) is ignored.
    const closed = () => {
      if (!dialog?.open) closeRef.current();
    };
    dialog?.addEventListener("close", closed);
    return () => {
      dialog?.removeEventListener("close", closed);
      if (dialog?.open) dialog.close();
    };
  }, []);
  const titleId = useId();
  return (
    <dialog ref={ref} aria-labelledby={titleId} className={className}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
