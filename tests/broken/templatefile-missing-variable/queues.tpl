# queues
%{ for q in queues ~}
queue ${q}
%{ endfor ~}
