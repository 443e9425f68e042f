# queues
%{ for q in queues ~}
queue ${upper(q}
%{ endfor ~}
